import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '@sigflow/observability';

/** The bidding service's own series (process metrics come with the registry). */
export function biddingMetrics(registry: Registry) {
  return {
    rounds: new Counter({
      name: 'sigflow_bidding_rounds_total',
      help: 'Rounds by outcome: computed (this instance holds the lease), standby (another does), failed',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    roundSeconds: new Histogram({
      name: 'sigflow_bidding_round_seconds',
      help: 'Time of one computed round: reads, every campaign through the rules, answers written, changes published',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    campaigns: new Gauge({
      name: 'sigflow_bidding_campaigns',
      help: 'Budgeted campaigns in the last computed round, by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'sigflow_bidding_leader',
      help: '1 while this instance holds the lease (computes and publishes), else 0',
      registers: [registry],
    }),
    hashesRead: new Counter({
      name: 'sigflow_bidding_hashes_read_total',
      help: 'View hashes read from Redis (closed hours and batch versions come from the cache)',
      registers: [registry],
    }),
    cachedHours: new Gauge({
      name: 'sigflow_bidding_cached_hours',
      help: 'Parsed view hashes of closed hours and batch versions held between rounds',
      registers: [registry],
    }),
    messages: new Counter({
      name: 'sigflow_bidding_messages_total',
      help: 'bidding.v1 messages published (a campaign whose status or a multiplier changed)',
      registers: [registry],
    }),
    deferred: new Counter({
      name: 'sigflow_bidding_deferred_total',
      help: 'Changes held back to keep one message per campaign per publish interval (sent in a later round)',
      registers: [registry],
    }),
  };
}

export type BiddingMetrics = ReturnType<typeof biddingMetrics>;
