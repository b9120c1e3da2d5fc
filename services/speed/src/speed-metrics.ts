import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { EventHistogram, latencyBuckets } from '@sigflow/observability';

/** What the commits carried: events by outcome, late ones, messages, dead letters, segment changes, people's data dropped or erased. */
function committedMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: 'sigflow_speed_events_total',
      help: 'Events committed, by outcome (valid, invalid, duplicate)',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    lateEvents: new Counter({
      name: 'sigflow_speed_late_events_total',
      help: 'Events committed that were late (kept out of windowed views and attribution)',
      registers: [registry],
    }),
    processed: new Counter({
      name: 'sigflow_speed_messages_total',
      help: 'Kafka messages committed (events and dead letters)',
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'sigflow_speed_dead_letters_total',
      help: 'Messages sent to the dead-letter topic',
      registers: [registry],
    }),
    segmentChanges: new Counter({
      name: 'sigflow_speed_segment_changes_total',
      help: 'Segment memberships entered and left (lapses and deleted segments included), committed',
      labelNames: ['change'] as const,
      registers: [registry],
    }),
    tombstonedEvents: new Counter({
      name: 'sigflow_speed_tombstoned_events_total',
      help: 'Events of deleted people dropped before processing (late arrivals, replays)',
      registers: [registry],
    }),
    erasures: new Counter({
      name: 'sigflow_speed_erasures_total',
      help: "People whose speed state was erased inside their partition's fenced commit",
      registers: [registry],
    }),
  };
}

/** The partitions this instance holds: owned, lagging, held but not processed, lost by the store, fenced. */
function partitionMetrics(registry: Registry) {
  return {
    ownedPartitions: new Gauge({
      name: 'sigflow_speed_owned_partitions',
      help: 'Partitions of the events topic this instance owns now (1 per owned partition)',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'sigflow_speed_consumer_lag',
      help: 'Messages in the partition not yet processed (high watermark - next offset)',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    stalledPartitions: new Gauge({
      name: 'sigflow_speed_partitions_held_not_processed',
      help: 'Partitions the consumer group gave this instance that it does not process (another owner fenced it out); /readyz is unready while any is',
      registers: [registry],
    }),
    storeLosses: new Counter({
      name: 'sigflow_speed_store_losses_total',
      help: 'Partitions whose offset and owner epoch the store lost while this instance held them (taken again and rebuilt)',
      registers: [registry],
    }),
    fenced: new Counter({
      name: 'sigflow_speed_fenced_commits_total',
      help: 'Commits refused by their fence: another owner had committed the partition (a rebalance), or the store lost it',
      registers: [registry],
    }),
  };
}

/** How long an event takes to its view, and a round to its commit. */
function timingMetrics(registry: Registry) {
  return {
    // Observed once per event: the histogram whose observe allocates nothing.
    eventToView: new EventHistogram({
      name: 'sigflow_speed_event_to_view_seconds',
      help: 'From the collector stamping received_at to the Redis commit that contains the event',
      // Fine buckets where the target is (p99 < 100 ms), so percentiles read off them are close.
      buckets: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.012, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    roundSeconds: new Histogram({
      name: 'sigflow_speed_round_seconds',
      help: "Time from a round's start to one partition's commit of it applied",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    roundPhaseSeconds: new Counter({
      name: 'sigflow_speed_round_phase_seconds_total',
      help:
        "Where the rounds' time goes, by phase: intake (decoding the fetch, aligning the partitions), load (the state reads from Redis, " +
        'waited for and restored), rules (the shared rules over every event), commit (building the commits, waiting for the last ones); ' +
        'their rates over a catch-up say what bounds its pace',
      labelNames: ['phase'] as const,
      registers: [registry],
    }),
    roundEvents: new Histogram({
      name: 'sigflow_speed_round_events',
      help: "Messages of one partition's part of a round",
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
  };
}

/** The keyed state in memory: users, remembered event ids, IP states, states found incomplete. */
function stateMetrics(registry: Registry) {
  return {
    cachedUsers: new Gauge({
      name: 'sigflow_speed_cached_users',
      help: 'Users whose keyed state is held in memory (owned partitions)',
      registers: [registry],
    }),
    cacheBytesPerUser: new Gauge({
      name: 'sigflow_speed_cache_bytes_per_user',
      help: 'Heap a cached user is estimated to cost (the old generation after a full collection, less its size at start, / users cached, averaged): bounds the users kept to SIGFLOW_SPEED_CACHE_HEAP_MB',
      registers: [registry],
    }),
    cacheBudgetBytes: new Gauge({
      name: 'sigflow_speed_cache_budget_bytes',
      help: "Heap the cache of users may fill: SIGFLOW_SPEED_CACHE_HEAP_MB, or less when V8's heap limit (--max-old-space-size) is too small for it",
      registers: [registry],
    }),
    dedupeIds: new Gauge({
      name: 'sigflow_speed_dedupe_ids',
      help: 'Event ids remembered in memory for de-duplication (owned partitions)',
      registers: [registry],
    }),
    ipStates: new Gauge({
      name: 'sigflow_speed_ip_states',
      help: "IPs' click states held in memory for the flood rule (owned partitions)",
      registers: [registry],
    }),
    incompleteStates: new Counter({
      name: 'sigflow_speed_incomplete_user_states_total',
      help: "Users whose stored state was incomplete when loaded (snapshot and signal log lost apart)",
      registers: [registry],
    }),
  };
}

/** The speed layer's series (process metrics come with the registry). */
export function speedMetrics(registry: Registry) {
  return { ...committedMetrics(registry), ...partitionMetrics(registry), ...timingMetrics(registry), ...stateMetrics(registry) };
}

export type SpeedMetrics = ReturnType<typeof speedMetrics>;
