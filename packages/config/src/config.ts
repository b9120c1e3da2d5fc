import { defaultRuleSettings, type RuleSettings } from '@sigflow/core';
import { EnvReader, ConfigError, type Env } from './env.js';

/** Kafka connection and topic naming. */
export interface KafkaConfig {
  readonly brokers: string[];
  readonly clientId: string;
  /** Prefixed to every topic name; tests use a unique prefix per run. */
  readonly topicPrefix: string;
  /** Partitions of `events.v1` when the project creates it. */
  readonly eventPartitions: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export interface RedisConfig {
  readonly url: string;
  /** Prefixed to every key; tests use a unique prefix per run. */
  readonly keyPrefix: string;
}

export interface CollectorConfig {
  readonly host: string;
  readonly port: number;
  /** When non-empty, `POST /v1/events` requires one of these in `x-api-key`. */
  readonly apiKeys: string[];
  /** How long a request may wait for Kafka before it is answered 503. */
  readonly produceTimeoutMs: number;
  /** Seconds a client is told to wait (Retry-After) while Kafka is unavailable. */
  readonly retryAfterSeconds: number;
}

export interface EventLimitsConfig {
  /** Events older than this (by `ts`) are rejected: the archive no longer keeps them. */
  readonly retentionMs: number;
  /** Events further than this in the future are rejected. */
  readonly maxFutureMs: number;
}

export interface SpeedConfig {
  readonly metricsPort: number;
  readonly groupId: string;
  /** Partitions one instance processes at once (their Redis round trips overlap). */
  readonly concurrency: number;
  /** Windowed speed views live this long (until batch views have replaced them). */
  readonly viewTtlMs: number;
  /** A user's keyed state and signal log expire this long after the user's last event. */
  readonly userTtlMs: number;
  /** Signals kept per user (the newest). */
  readonly signalsCap: number;
  /**
   * How long event ids are remembered to drop duplicates (wall clock). Copies further apart
   * are counted twice by the speed layer; the batch layer deduplicates the whole archive.
   */
  readonly dedupeTtlMs: number;
  /** How often the published Shapley table version is checked. */
  readonly shapleyRefreshMs: number;
  /**
   * Kafka group session timeout: how long a crashed (kill -9) instance holds its partitions
   * before the group hands them to another member (or to itself, restarted).
   */
  readonly sessionTimeoutMs: number;
}

export interface ArchiverConfig {
  readonly metricsPort: number;
  readonly groupId: string;
  readonly dir: string;
  readonly flushEvents: number;
  readonly flushMs: number;
  /** How often consumer lag is polled (metrics, idle-partition watermarks). */
  readonly lagPollMs: number;
  /** A partition with nothing left to read has archive watermark "now - this". */
  readonly idleWatermarkDelayMs: number;
  readonly duckdbThreads: number;
  readonly sessionTimeoutMs: number;
}

export interface BatchConfig {
  readonly metricsPort: number;
  readonly queueName: string;
  /** Cron pattern of the dirty-hours recompute and of the attribution retraining. */
  readonly recomputeEvery: string;
  readonly retrainEvery: string;
  /** Batch views live this long (default: the archive's retention). */
  readonly viewTtlMs: number;
  /** Keys of a version being written expire after this unless switched in. */
  readonly pendingTtlMs: number;
  /** A replaced version stays readable this long (readers mid-flight). */
  readonly oldVersionTtlMs: number;
  /** Hours recomputed per DuckDB pass. */
  readonly hoursPerPass: number;
  readonly duckdbThreads: number;
  /** DuckDB memory limit ('' = DuckDB's default); beyond it DuckDB spills to disk. */
  readonly duckdbMemoryLimit: string;
  /** Run the rules only over the event types that reach views. */
  readonly viewEventsOnly: boolean;
  /** Also write batch views as Parquet under `views/` for analysts. */
  readonly writeViewParquet: boolean;
  /** Job attempts and the first (exponential) backoff delay. */
  readonly attempts: number;
  readonly backoffMs: number;
  /** Dirty hours recomputed per scheduled run at most (oldest first). */
  readonly maxDirtyHoursPerRun: number;
  /**
   * BullMQ job lock (renewed while the job runs): a worker that dies (kill -9) holds its job
   * this long before a worker's stalled-job check hands it out again.
   */
  readonly lockDurationMs: number;
  /** How often workers look for stalled jobs (jobs whose worker died). */
  readonly stalledIntervalMs: number;
}

export type Role = 'reader' | 'analyst' | 'ops';

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  /** key -> role. */
  readonly apiKeys: ReadonlyMap<string, Role>;
  readonly maxRangeMs: number;
  /** Campaign x hour reads one reconciliation request may make at most. */
  readonly maxCampaignHours: number;
  readonly rateLimitPerMinute: number;
  /**
   * A Redis command the API waits longer for fails (answered 503): while Redis is unreachable
   * (e.g. a network partition) requests are answered instead of hanging. With auto-pipelining a
   * command may first wait for the pipeline ahead of it, so a request waits about twice this.
   */
  readonly redisTimeoutMs: number;
}

export interface SigflowConfig {
  readonly logLevel: string;
  /** Interface the services without an HTTP API bind their /metrics, /healthz, /readyz to. */
  readonly metricsHost: string;
  readonly kafka: KafkaConfig;
  readonly redis: RedisConfig;
  readonly limits: EventLimitsConfig;
  readonly rules: RuleSettings;
  readonly collector: CollectorConfig;
  readonly speed: SpeedConfig;
  readonly archiver: ArchiverConfig;
  readonly batch: BatchConfig;
  readonly api: ApiConfig;
}

const DAY = 86_400_000;
const ROLES: readonly Role[] = ['reader', 'analyst', 'ops'];

function parseApiKeys(variable: string, entries: string[]): Map<string, Role> {
  const keys = new Map<string, Role>();
  for (const entry of entries) {
    const at = entry.lastIndexOf(':');
    const key = at > 0 ? entry.slice(0, at) : '';
    const role = entry.slice(at + 1) as Role;
    if (!key || !ROLES.includes(role)) {
      throw new ConfigError(variable, `expected "key:role" with role one of ${ROLES.join(', ')}, got "${entry}"`);
    }
    keys.set(key, role);
  }
  return keys;
}

function ruleSettings(r: EnvReader): RuleSettings {
  const d = defaultRuleSettings;
  return {
    windowMs: r.int('SIGFLOW_RULE_WINDOW_MS', d.windowMs, 1_000),
    watermarkDelayMs: r.int('SIGFLOW_RULE_WATERMARK_DELAY_MS', d.watermarkDelayMs, 0),
    allowedLatenessMs: r.int('SIGFLOW_RULE_ALLOWED_LATENESS_MS', d.allowedLatenessMs, 0),
    sessionGapMs: r.int('SIGFLOW_RULE_SESSION_GAP_MS', d.sessionGapMs, 1),
    floodThreshold: r.int('SIGFLOW_RULE_FLOOD_THRESHOLD', d.floodThreshold, 1),
    floodWindowMs: r.int('SIGFLOW_RULE_FLOOD_WINDOW_MS', d.floodWindowMs, 1),
    joinWindowMs: r.int('SIGFLOW_RULE_JOIN_WINDOW_MS', d.joinWindowMs, 1),
    tooFastMs: r.int('SIGFLOW_RULE_TOO_FAST_MS', d.tooFastMs, 0),
    attributionLookbackMs: r.int('SIGFLOW_RULE_ATTRIBUTION_LOOKBACK_MS', d.attributionLookbackMs, 1),
    timeDecayHalfLifeMs: r.int('SIGFLOW_RULE_TIME_DECAY_HALF_LIFE_MS', d.timeDecayHalfLifeMs, 1),
    shapleyTrainingMs: r.int('SIGFLOW_RULE_SHAPLEY_TRAINING_MS', d.shapleyTrainingMs, 1),
    engagementHalfLifeMs: r.int('SIGFLOW_RULE_ENGAGEMENT_HALF_LIFE_MS', d.engagementHalfLifeMs, 1),
    dedupeHorizonMs: r.int('SIGFLOW_RULE_DEDUPE_HORIZON_MS', d.dedupeHorizonMs, 1),
  };
}

/**
 * Reads the whole configuration from environment variables. Every default lives here
 * (rule defaults live with the rules in `@sigflow/core`). Throws {@link ConfigError}
 * naming the variable when a value is unusable.
 */
export function loadConfig(env: Env = process.env): SigflowConfig {
  const r = new EnvReader(env);
  const retentionMs = r.int('SIGFLOW_RETENTION_MS', 90 * DAY, 60_000);
  return {
    logLevel: r.oneOf('SIGFLOW_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    metricsHost: r.string('SIGFLOW_METRICS_HOST', '127.0.0.1'),
    kafka: {
      brokers: r.list('SIGFLOW_KAFKA_BROKERS', ['127.0.0.1:9092']),
      clientId: r.string('SIGFLOW_KAFKA_CLIENT_ID', 'sigflow'),
      topicPrefix: r.string('SIGFLOW_TOPIC_PREFIX', ''),
      eventPartitions: r.int('SIGFLOW_EVENT_PARTITIONS', 4, 1, 1024),
      connectionTimeoutMs: r.int('SIGFLOW_KAFKA_CONNECTION_TIMEOUT_MS', 3_000, 100),
      requestTimeoutMs: r.int('SIGFLOW_KAFKA_REQUEST_TIMEOUT_MS', 30_000, 100),
    },
    redis: {
      url: r.string('SIGFLOW_REDIS_URL', 'redis://127.0.0.1:6379'),
      keyPrefix: r.string('SIGFLOW_REDIS_PREFIX', 'sigflow'),
    },
    limits: {
      retentionMs,
      maxFutureMs: r.int('SIGFLOW_MAX_FUTURE_MS', 5 * 60_000, 0),
    },
    rules: ruleSettings(r),
    collector: {
      host: r.string('SIGFLOW_COLLECTOR_HOST', '127.0.0.1'),
      port: r.int('SIGFLOW_COLLECTOR_PORT', 7001, 0, 65535),
      apiKeys: r.list('SIGFLOW_COLLECTOR_API_KEYS', []),
      // Under the 5 s a client may wait for an answer: past it, a clear 503 beats a hang.
      produceTimeoutMs: r.int('SIGFLOW_COLLECTOR_PRODUCE_TIMEOUT_MS', 4_000, 100),
      retryAfterSeconds: r.int('SIGFLOW_COLLECTOR_RETRY_AFTER_S', 5, 1),
    },
    speed: {
      metricsPort: r.int('SIGFLOW_SPEED_METRICS_PORT', 7002, 0, 65535),
      groupId: r.string('SIGFLOW_SPEED_GROUP', 'speed'),
      concurrency: r.int('SIGFLOW_SPEED_CONCURRENCY', 4, 1, 64),
      viewTtlMs: r.int('SIGFLOW_SPEED_VIEW_TTL_MS', 8 * DAY, 60_000),
      userTtlMs: r.int('SIGFLOW_SPEED_USER_TTL_MS', 30 * DAY, 60_000),
      signalsCap: r.int('SIGFLOW_SPEED_SIGNALS_CAP', 1_000, 1, 100_000),
      dedupeTtlMs: r.int('SIGFLOW_SPEED_DEDUPE_TTL_MS', 3_600_000, 1_000),
      shapleyRefreshMs: r.int('SIGFLOW_SPEED_SHAPLEY_REFRESH_MS', 5_000, 100),
      sessionTimeoutMs: r.int('SIGFLOW_SPEED_SESSION_TIMEOUT_MS', 30_000, 1_000),
    },
    archiver: {
      metricsPort: r.int('SIGFLOW_ARCHIVER_METRICS_PORT', 7003, 0, 65535),
      groupId: r.string('SIGFLOW_ARCHIVER_GROUP', 'archiver'),
      dir: r.string('SIGFLOW_ARCHIVE_DIR', 'var/archive'),
      flushEvents: r.int('SIGFLOW_ARCHIVER_FLUSH_EVENTS', 50_000, 1),
      flushMs: r.int('SIGFLOW_ARCHIVER_FLUSH_MS', 5_000, 10),
      lagPollMs: r.int('SIGFLOW_ARCHIVER_LAG_POLL_MS', 5_000, 100),
      idleWatermarkDelayMs: r.int('SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS', 300_000, 0),
      duckdbThreads: r.int('SIGFLOW_ARCHIVER_DUCKDB_THREADS', 1, 1, 64),
      sessionTimeoutMs: r.int('SIGFLOW_ARCHIVER_SESSION_TIMEOUT_MS', 30_000, 1_000),
    },
    batch: {
      metricsPort: r.int('SIGFLOW_BATCH_METRICS_PORT', 7004, 0, 65535),
      queueName: r.string('SIGFLOW_BATCH_QUEUE', 'batch'),
      recomputeEvery: r.string('SIGFLOW_BATCH_RECOMPUTE_EVERY', '*/5 * * * *'),
      retrainEvery: r.string('SIGFLOW_BATCH_RETRAIN_EVERY', '15 3 * * *'),
      viewTtlMs: r.int('SIGFLOW_BATCH_VIEW_TTL_MS', retentionMs, 60_000),
      pendingTtlMs: r.int('SIGFLOW_BATCH_PENDING_TTL_MS', 6 * 3_600_000, 60_000),
      oldVersionTtlMs: r.int('SIGFLOW_BATCH_OLD_VERSION_TTL_MS', 3_600_000, 1_000),
      hoursPerPass: r.int('SIGFLOW_BATCH_HOURS_PER_PASS', 24, 1, 24 * 31),
      duckdbThreads: r.int('SIGFLOW_BATCH_DUCKDB_THREADS', 2, 1, 64),
      duckdbMemoryLimit: r.string('SIGFLOW_BATCH_DUCKDB_MEMORY', '2GB'),
      viewEventsOnly: r.bool('SIGFLOW_BATCH_VIEW_EVENTS_ONLY', true),
      writeViewParquet: r.bool('SIGFLOW_BATCH_VIEW_PARQUET', true),
      attempts: r.int('SIGFLOW_BATCH_ATTEMPTS', 3, 1, 100),
      backoffMs: r.int('SIGFLOW_BATCH_BACKOFF_MS', 2_000, 0),
      maxDirtyHoursPerRun: r.int('SIGFLOW_BATCH_MAX_DIRTY_HOURS', 168, 1),
      lockDurationMs: r.int('SIGFLOW_BATCH_LOCK_MS', 120_000, 1_000),
      stalledIntervalMs: r.int('SIGFLOW_BATCH_STALLED_INTERVAL_MS', 30_000, 500),
    },
    api: {
      host: r.string('SIGFLOW_API_HOST', '127.0.0.1'),
      port: r.int('SIGFLOW_API_PORT', 7000, 0, 65535),
      apiKeys: parseApiKeys('SIGFLOW_API_KEYS', r.list('SIGFLOW_API_KEYS', [])),
      maxRangeMs: r.int('SIGFLOW_API_MAX_RANGE_MS', 31 * DAY, 60_000),
      maxCampaignHours: r.int('SIGFLOW_API_MAX_CAMPAIGN_HOURS', 20_000, 1),
      rateLimitPerMinute: r.int('SIGFLOW_API_RATE_LIMIT_PER_MINUTE', 600_000, 1),
      redisTimeoutMs: r.int('SIGFLOW_API_REDIS_TIMEOUT_MS', 1_500, 100),
    },
  };
}
