import { Counter, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '@sigflow/observability';

/** The collector's own series (process metrics come with the registry). */
export function collectorMetrics(registry: Registry) {
  return {
    accepted: new Counter({
      name: 'sigflow_collector_events_accepted_total',
      help: 'Events Kafka acknowledged',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'sigflow_collector_events_rejected_total',
      help: 'Events rejected, by reason code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'sigflow_collector_requests_total',
      help: 'Ingest requests by response status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    produceLatency: new Histogram({
      name: 'sigflow_collector_produce_seconds',
      help: 'Time from handing a batch to the producer until Kafka acknowledged it',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'sigflow_collector_batch_events',
      help: 'Events per ingest request',
      buckets: [1, 10, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
