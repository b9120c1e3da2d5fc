import type { EnvReader } from './env.js';

/** User segments (DESIGN.md "Segments"): limits of the definitions ops manage, and how fast they apply. */
export interface SegmentsConfig {
  /** Segments defined at most (`SIGFLOW_SEGMENTS_MAX`, 50): every event of a user evaluates each. */
  readonly maxSegments: number;
  /** Conditions in one rule at most, all groups together (`SIGFLOW_SEGMENT_MAX_CONDITIONS`, 32). */
  readonly maxConditions: number;
  /** Nesting of `all`/`any` groups at most (`SIGFLOW_SEGMENT_MAX_DEPTH`, 4). */
  readonly maxDepth: number;
  /** Values in one `in` list at most (`SIGFLOW_SEGMENT_MAX_VALUES`, 64). */
  readonly maxValues: number;
  /**
   * How often the speed layer looks for changed definitions (`SIGFLOW_SEGMENTS_REFRESH_MS`,
   * 1000): a change applies from each user's next event after that.
   */
  readonly refreshMs: number;
}

/** Alert rules, their evaluation at each window close and their webhook deliveries (the alerts service). */
export interface AlertsConfig {
  /** Port of the alerts service's /metrics, /healthz, /readyz (`SIGFLOW_ALERTS_METRICS_PORT`, 7006). */
  readonly metricsPort: number;
  /** Alert rules at most (`SIGFLOW_ALERTS_MAX_RULES`, 100). */
  readonly maxRules: number;
  /** How often the service reads the speed watermarks for closed windows (`SIGFLOW_ALERTS_POLL_MS`, 1000). */
  readonly pollMs: number;
  /**
   * A partition whose speed watermark has not moved for this long (wall clock) does not hold
   * windows open (`SIGFLOW_ALERTS_IDLE_PARTITION_MS`, 30000): an idle partition has nothing to add.
   */
  readonly idlePartitionMs: number;
  /**
   * Address ranges (CIDR, comma list) a webhook may point into although they are private,
   * loopback or link-local (`SIGFLOW_ALERTS_WEBHOOK_ALLOW`, none): by default only public
   * addresses are allowed. E.g. `10.20.0.0/16` for an internal receiver.
   */
  readonly webhookAllow: readonly string[];
  /** Delivery attempts of a webhook before it is dead-lettered (`SIGFLOW_ALERTS_DELIVERY_ATTEMPTS`, 6). */
  readonly deliveryAttempts: number;
  /** First delay of the exponential backoff between attempts (`SIGFLOW_ALERTS_DELIVERY_BACKOFF_MS`, 2000). */
  readonly deliveryBackoffMs: number;
  /** A webhook that does not answer within this long failed this attempt (`SIGFLOW_ALERTS_DELIVERY_TIMEOUT_MS`, 5000). */
  readonly deliveryTimeoutMs: number;
  /** Alert episodes kept in the history, the newest (`SIGFLOW_ALERTS_KEEP`, 1000). */
  readonly keepEpisodes: number;
  /** BullMQ queue of the deliveries (`SIGFLOW_ALERTS_QUEUE`, `alerts`); prefix `<redis prefix>:bull`, `<redis prefix>:{bull}` on a Redis Cluster. */
  readonly queueName: string;
  /** One service instance evaluates at a time, holding a lease this long, renewed at each poll (`SIGFLOW_ALERTS_LEASE_MS`, 10000). */
  readonly leaseMs: number;
}

/** Reads {@link SegmentsConfig}. */
export function segmentsConfig(r: EnvReader): SegmentsConfig {
  return {
    maxSegments: r.int('SIGFLOW_SEGMENTS_MAX', 50, 1, 1_000),
    maxConditions: r.int('SIGFLOW_SEGMENT_MAX_CONDITIONS', 32, 1, 256),
    maxDepth: r.int('SIGFLOW_SEGMENT_MAX_DEPTH', 4, 1, 16),
    maxValues: r.int('SIGFLOW_SEGMENT_MAX_VALUES', 64, 1, 1_000),
    refreshMs: r.int('SIGFLOW_SEGMENTS_REFRESH_MS', 1_000, 50),
  };
}

/** Reads {@link AlertsConfig}. */
export function alertsConfig(r: EnvReader): AlertsConfig {
  return {
    metricsPort: r.int('SIGFLOW_ALERTS_METRICS_PORT', 7006, 0, 65535),
    maxRules: r.int('SIGFLOW_ALERTS_MAX_RULES', 100, 1, 10_000),
    pollMs: r.int('SIGFLOW_ALERTS_POLL_MS', 1_000, 50),
    idlePartitionMs: r.int('SIGFLOW_ALERTS_IDLE_PARTITION_MS', 30_000, 0),
    webhookAllow: r.list('SIGFLOW_ALERTS_WEBHOOK_ALLOW', []),
    deliveryAttempts: r.int('SIGFLOW_ALERTS_DELIVERY_ATTEMPTS', 6, 1, 100),
    deliveryBackoffMs: r.int('SIGFLOW_ALERTS_DELIVERY_BACKOFF_MS', 2_000, 0),
    deliveryTimeoutMs: r.int('SIGFLOW_ALERTS_DELIVERY_TIMEOUT_MS', 5_000, 100),
    keepEpisodes: r.int('SIGFLOW_ALERTS_KEEP', 1_000, 1, 1_000_000),
    queueName: r.string('SIGFLOW_ALERTS_QUEUE', 'alerts'),
    leaseMs: r.int('SIGFLOW_ALERTS_LEASE_MS', 10_000, 1_000),
  };
}
