import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@sigflow/config';
import { createLogger, onShutdown, reportRuntimeSettings, ServerCluster, serveAsClusterWorker } from '@sigflow/observability';

// Without configured keys the API is not left open: it makes one ops key for this run (shared by
// every process) and logs the dashboard address with it (development; production sets SIGFLOW_API_KEYS).
const devKey = loadConfig().api.apiKeys.size === 0 && cluster.isPrimary ? randomBytes(18).toString('base64url') : null;
if (devKey) process.env['SIGFLOW_API_KEYS'] = `${devKey}:ops`;
const config = loadConfig();
const logger = createLogger('api', config.logLevel);
if (cluster.isPrimary) reportRuntimeSettings(logger, null, new URL('../package.json', import.meta.url));

if (cluster.isPrimary && config.api.processes > 1) {
  // Workers inherit the environment, the generated key included. A signal from here on stops
  // whatever started.
  const servers = new ServerCluster({ name: 'api', processes: config.api.processes, logger });
  onShutdown(logger, servers.stop);
  await servers.start();
} else {
  // Imported here: a cluster primary does not serve, and loading the server's modules (fastify,
  // BullMQ, DuckDB, every route) cost it as much CPU as a worker's start: 3 of 9.8 CPU-seconds
  // for an API of 2 workers.
  const { startServer } = await import('./server.js');
  const { servedEventPartitions } = await import('./served-partitions.js');
  // Users' keys are found by partition: the events topic's count (Kafka's, or the one recorded in Redis while Kafka does not answer).
  const served = await servedEventPartitions(config, logger);
  const stopServer = await startServer(served, logger);
  onShutdown(logger, cluster.isWorker ? serveAsClusterWorker(stopServer) : stopServer);
}
const base = `http://${config.api.host}:${config.api.port}`;
if (devKey) logger.warn(`SIGFLOW_API_KEYS is empty: generated an ops key for this run. Dashboard: ${base}/#key=${devKey}`);
