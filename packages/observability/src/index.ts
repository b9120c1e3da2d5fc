export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createMetricsRegistry, latencyBuckets } from './metrics.js';
export { startHealthServer } from './health-server.js';
export type { HealthServer, HealthServerOptions, ReadinessCheck } from './health-server.js';
export { onShutdown } from './shutdown.js';
export { ServerCluster, serveAsClusterWorker } from './server-cluster.js';
export type { ServerClusterOptions } from './server-cluster.js';
export { clusterMetricsText } from './cluster-metrics.js';
