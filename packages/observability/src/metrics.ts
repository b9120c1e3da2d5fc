import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A Prometheus registry with the process metrics (CPU, memory, event loop lag) and a
 * `service` label on every series. Each service owns one; none uses the global registry,
 * so tests can build several services in one process.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'sigflow_' });
  return registry;
}

/** Histogram buckets (seconds) for latencies from sub-millisecond to a minute. */
export const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
