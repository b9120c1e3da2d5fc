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
    callers: new Counter({
      name: 'sigflow_collector_requests_by_caller_total',
      help: 'Ingest requests by caller kind: server (trusted ip/user_agent), site (site key), browser (no key), segment (a write key)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'sigflow_collector_dead_lettered_total',
      help: 'Messages refused and kept in the dead-letter topic with their reason (Segment calls; their codes in sigflow_collector_events_rejected_total)',
      registers: [registry],
    }),
    corsRefused: new Counter({
      name: 'sigflow_collector_cors_refused_total',
      help: 'Requests and preflights refused because their Origin is not allowed',
      registers: [registry],
    }),
    sdkServed: new Counter({
      name: 'sigflow_collector_sdk_requests_total',
      help: 'GET /sdk/sigflow.js by answer: 200 or 304 (not modified)',
      labelNames: ['status'] as const,
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
