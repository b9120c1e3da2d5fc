import { availableParallelism } from 'node:os';
import {
  checkBiddingSettings,
  defaultBiddingSettings,
  InvalidRuleSettingsError,
  realTimeModels,
  type BiddingSettings,
  type RealTimeModel,
  type RuleSettings,
  defaultRuleSettings,
} from '@sigflow/core';
import { hostname } from 'node:os';
import { EnvReader, ConfigError, type Env } from './env.js';
import { kafkaConfig, redisConfig, type KafkaConfig, type RedisConfig } from './connections.js';
import { alertsConfig, segmentsConfig, type AlertsConfig, type SegmentsConfig } from './segments-alerts.js';
import { sqlConfig, type SqlConfig } from './sql.js';
import { archiveStorageConfig, type ArchiveStorageConfig } from './archive-storage.js';
import { segmentMappings, type SegmentMappings } from './segment-mapping.js';

export interface CollectorConfig {
  readonly host: string;
  readonly port: number;
  /**
   * Server keys (`SIGFLOW_COLLECTOR_API_KEYS`, default none). When non-empty, `POST /v1/events`
   * requires one of these in `x-api-key`, or a site key. Only a request with a server key may
   * set `ip` and `user_agent` in its events.
   */
  readonly apiKeys: string[];
  /**
   * Site keys (`SIGFLOW_COLLECTOR_SITE_KEYS=key:site,...`, default none): public keys a web page
   * embeds (`data-site`). A request with one (`?site=` or `x-site-key`) ingests only web events
   * and conversions, stamped `attrs.site` = its site; `ip` and `user_agent` come from the request.
   */
  readonly siteKeys: ReadonlyMap<string, string>;
  /**
   * Origins browsers may send events from (`SIGFLOW_COLLECTOR_ALLOWED_ORIGINS`, comma-separated,
   * `*` for any; default none): CORS answers and preflights for them; a request from any other
   * origin is refused (403) and nothing of it is ingested.
   */
  readonly allowedOrigins: string[];
  /**
   * What Segment `track` calls become, per write key's site (`SIGFLOW_COLLECTOR_SEGMENT_MAPPING`,
   * JSON `{"<site>": {"<event>": "impression|click|conversion|page_view|track|track:<name>"}}`);
   * events not listed follow the default mapping (README, "Send events with a Segment SDK").
   */
  readonly segmentMapping: SegmentMappings;
  /**
   * The collector's address as browsers reach it (`SIGFLOW_COLLECTOR_PUBLIC_URL`, e.g.
   * https://collect.example.com; default: the host the request named): where the Segment
   * settings tell analytics.js to send.
   */
  readonly publicUrl: string | undefined;
  /**
   * Take the client address from `X-Forwarded-For` (`SIGFLOW_COLLECTOR_TRUST_PROXY`, default
   * false): set it only behind a proxy that sets that header.
   */
  readonly trustProxy: boolean;
  /** `Cache-Control: max-age` of `GET /sdk/sigflow.js` (`SIGFLOW_COLLECTOR_SDK_MAX_AGE_S`, default 300). */
  readonly sdkMaxAgeSeconds: number;
  /** How long a request may wait for Kafka before it is answered 503. */
  readonly produceTimeoutMs: number;
  /** Seconds a client is told to wait (Retry-After) while Kafka is unavailable. */
  readonly retryAfterSeconds: number;
  /**
   * Server processes sharing the port (`node:cluster`), each with its own Kafka producer.
   * Default: one per core (`os.availableParallelism()`); 1 runs the server in the one process.
   */
  readonly processes: number;
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
  /**
   * Static group membership id (KIP-345), stable per instance: a member restarted with the
   * same id takes its partitions back at once, with no rebalance. Default: host name plus
   * `SIGFLOW_SPEED_INSTANCE_SLOT` when set, else plus the metrics port (unique on a host).
   */
  readonly instanceId: string;
  /** Windowed speed views live this long (until batch views have replaced them). */
  readonly viewTtlMs: number;
  /** A user's keyed state and signal log expire this long after the user's last event. */
  readonly userTtlMs: number;
  /** Signals kept per user (the newest). */
  readonly signalsCap: number;
  /**
   * Users listed per partition as recently seen (`SIGFLOW_SPEED_RECENT_USERS`, default 200): the
   * dashboard's user panel and `GET /v1/users/recent` pick from them. 0 keeps no list.
   */
  readonly recentUsers: number;
  /**
   * A user's state snapshot is rewritten after this many of its signals (default 32); between
   * snapshots the signals themselves are the state's durable delta.
   */
  readonly snapshotEvery: number;
  /**
   * Users kept in memory by the process (default 1,000,000), shared evenly by the partitions it
   * owns; others reload from Redis. Per process, so a process's memory does not grow with the
   * partitions it is given (it was per partition: 250,000 each).
   */
  readonly cachedUsers: number;
  /**
   * The old generation a speed process's cache of users may grow to, in MiB (default 32: a smaller
   * cache runs a catch-up faster, its garbage collector tracing less; the measurements behind
   * 32, and behind the 128, 256 and 1,536 before it, are in the README, "Bounded in bytes too"): the
   * users kept are bounded by what one is measured to cost (`CacheBudget` in services/speed),
   * and by {@link cachedUsers}.
   */
  readonly cacheHeapMb: number;
  /** How often the published Shapley table version is checked. */
  readonly shapleyRefreshMs: number;
  /**
   * Kafka group session timeout (default 6 s): how long a crashed instance that does not come
   * back holds its partitions before the group hands them to another member. A restarted one
   * takes them back at once (static membership), so this only bounds failover.
   */
  readonly sessionTimeoutMs: number;
  /** Group heartbeat (default 500 ms): how fast a member notices a rebalance (graceful handover). */
  readonly heartbeatIntervalMs: number;
  /** How long the broker may hold a fetch when there is nothing new (default 100 ms). */
  readonly fetchMaxWaitMs: number;
  /**
   * Bytes of a fetch round (default 4 MiB, ~12,000 events), shared evenly by the partitions the
   * process owns: a round's work, and the heap it takes, stay the same whatever the partition
   * count (it was 1 MiB a partition, so 32 MiB rounds for a process owning 32).
   */
  readonly fetchMaxBytes: number;
  /**
   * Before it consumes, run a round's hot path over synthetic events on a throwaway partition
   * (`SIGFLOW_SPEED_WARM_UP`, true), so V8 compiles it then and not on the first real events.
   */
  readonly warmUp: boolean;
}

export interface ArchiverConfig {
  readonly metricsPort: number;
  readonly groupId: string;
  /**
   * The archive's local folder (`SIGFLOW_ARCHIVE_DIR`, var/archive): the archive itself, or, with
   * `SIGFLOW_ARCHIVE_URL` set, this host's staging folder and (under `_cache`) the batch layer's cache.
   */
  readonly dir: string;
  readonly flushEvents: number;
  readonly flushMs: number;
  /** How often consumer lag is polled (metrics, idle-partition watermarks). */
  readonly lagPollMs: number;
  /** A partition with nothing left to read has archive watermark "now - this". */
  readonly idleWatermarkDelayMs: number;
  readonly duckdbThreads: number;
  /** DuckDB connections writing a flush at once, each its share of the partitions (default 2: one per core). */
  readonly writeLanes: number;
  /** KIP-345 static member id, stable per instance: host plus `SIGFLOW_ARCHIVER_INSTANCE_SLOT` when set, else plus the metrics port. */
  readonly instanceId: string;
  /**
   * Kafka group session timeout (default 6 s): how long a crashed archiver that does not come
   * back holds its partitions before the group hands them over. A restarted one takes them
   * back at once (static membership), so this only bounds failover; 6 s leaves twelve missed
   * heartbeats of margin for a flush that keeps the event loop busy.
   */
  readonly sessionTimeoutMs: number;
  /** Group heartbeat (default 500 ms). */
  readonly heartbeatIntervalMs: number;
}

/**
 * The batch layer (`jobs/batch`) and its job queue. Each field names its variable and default;
 * times are ms.
 */
export interface BatchConfig {
  /** Port of the worker's /metrics, /healthz, /readyz (`SIGFLOW_BATCH_METRICS_PORT`, 7004). */
  readonly metricsPort: number;
  /** BullMQ queue name (`SIGFLOW_BATCH_QUEUE`, `batch`); the key prefix is `<redis prefix>:bull` (`:{bull}` on a Redis Cluster). */
  readonly queueName: string;
  /** Cron pattern of the dirty-hours recompute (`SIGFLOW_BATCH_RECOMPUTE_EVERY`, every 5 minutes). */
  readonly recomputeEvery: string;
  /** Cron pattern of the attribution retraining (`SIGFLOW_BATCH_RETRAIN_EVERY`, 03:15 daily). */
  readonly retrainEvery: string;
  /** Batch views live this long (`SIGFLOW_BATCH_VIEW_TTL_MS`, default: the archive's retention). */
  readonly viewTtlMs: number;
  /** Keys of a version being written expire after this unless switched in (`SIGFLOW_BATCH_PENDING_TTL_MS`, 6 h). */
  readonly pendingTtlMs: number;
  /** A replaced version stays readable this long, for readers mid-flight (`SIGFLOW_BATCH_OLD_VERSION_TTL_MS`, 1 h). */
  readonly oldVersionTtlMs: number;
  /**
   * Hours recomputed per DuckDB pass; bounds memory: a pass holds its hours' events in DuckDB and
   * their views in JS, so memory follows the events of a pass, not of the range
   * (`SIGFLOW_BATCH_HOURS_PER_PASS`, 2). Each pass re-reads its context (the converting users'
   * touchpoints before it), so fewer hours read more. A 10 M-event day on 2 cores (load ~1.5):
   * 24 h passes 81 k events/s at 4.7 GB peak RSS; 6 h / 2GB 101 k at 3.4 GB; 3 h / 1GB 108 k at
   * 2.2 GB; 2 h / 768MB 112 k at 1.7 GB; 1 h / 512MB 99 k at 1.3 GB. That archive held no days
   * before the recomputed one: with weeks of history every pass also reads the converting users'
   * touchpoints of the lookback (from the hours' touchpoint verdicts, or the archive's files),
   * which favours longer passes. Of the 2 h / 768MB peak
   * RSS (1.66 GB on a slower host) the V8 heap was half (0.83 GB committed) while its live data
   * stays under 0.33 GB: garbage V8 let accumulate, growing its heap up to 4x the live data
   * between full collections. The worker now runs with `--heap-growing-percent=75`
   * (`jobs/batch/package.json` `sigflow.nodeArgs`): the heap grows at most 1.75x, 0.41-0.46 GB
   * committed, peak RSS 1,413-1,431 MB against 1,675-1,771 MB, at the same speed (medians of
   * interleaved runs: 71.4 k against 67.9 k events/s; 50 % costs 10-15 % CPU, capping the old
   * space at 512 MB 20 %; DuckDB at 512MB 7 %).
   */
  readonly hoursPerPass: number;
  /** DuckDB threads of the worker (`SIGFLOW_BATCH_DUCKDB_THREADS`, 2). */
  readonly duckdbThreads: number;
  /**
   * Threads a recompute runs the rules in, sharded by user (`SIGFLOW_BATCH_RULE_THREADS`, 1 = in
   * the worker's main thread). Each thread sums its users' views and the sums are merged: more
   * CPU in all (on 2 cores a 10 M-event day took 158 s of CPU with 2 threads against 108 s with
   * 1, and ran slower), so raise it only with cores to spare.
   */
  readonly ruleThreads: number;
  /**
   * A `recompute` job of more hours than this fans out as child jobs (`recompute-part`) of this
   * many hours each, which any batch worker takes, so several workers (and machines) share a
   * long range; the parent then recomputes the range's segments once and sums the parts'
   * answers (`SIGFLOW_BATCH_HOURS_PER_PART`, 4: a day is 6 parts of 2 passes each).
   */
  readonly hoursPerPart: number;
  /**
   * Batch worker processes the batch service runs on its machine, each with its own DuckDB and
   * one job at a time (`SIGFLOW_BATCH_WORKERS`, 2). The JS rules run on a process's main thread,
   * so on 2 cores two workers sharing a day's parts keep both cores busy: a 10 M-event day 180 k
   * events/s with two processes on halves of it against 135 k with one, at the same CPU in all
   * (97.5 s against 99.5 s); each worker's peak RSS stays that of one (1.24-1.47 GB). The
   * service's own process only schedules and supervises them: it runs no job.
   */
  readonly workers: number;
  /**
   * A worker process whose RSS is above this many bytes after a job exits once the job is done
   * and the service starts a new one (`SIGFLOW_BATCH_WORKER_RECYCLE_MB`, 1024; 0: never). DuckDB
   * and the C allocator keep memory a job freed (arenas, readers' buffers), and a long-lived
   * worker's RSS grew about 100 MiB a minute over the platform soak's recomputes; a new process
   * costs a second or two of start-up between jobs.
   */
  readonly workerRecycleBytes: number;
  /**
   * The CPU priority the batch service and its worker processes run at, as `nice` sets it
   * (`SIGFLOW_BATCH_NICE`, 0: unchanged; `npm start` and the compose file, which run every
   * service on one machine, set 10). There a recompute's DuckDB threads and JS rules otherwise
   * take every core from the speed layer: the platform soak at half its rate fell behind for
   * good once the batch layer recomputed an hour on the same 2 cores. The batch layer has hours
   * to catch up in; the speed layer has milliseconds.
   */
  readonly nice: number;
  /**
   * DuckDB memory limit, '' = DuckDB's default; beyond it DuckDB spills to disk
   * (`SIGFLOW_BATCH_DUCKDB_MEMORY`, 768MB: enough for a pass of `hoursPerPass` hours, see there).
   */
  readonly duckdbMemoryLimit: string;
  /** Run the rules only over the event types that reach views (`SIGFLOW_BATCH_VIEW_EVENTS_ONLY`, true). */
  readonly viewEventsOnly: boolean;
  /** Also write batch views as Parquet under `views/` for analysts (`SIGFLOW_BATCH_VIEW_PARQUET`, true). */
  readonly writeViewParquet: boolean;
  /**
   * Keep each computed hour's touchpoint verdicts under `verdicts/`, and read a recompute's
   * lookback from them when all its hours are computed and clean, instead of from the archive
   * (`SIGFLOW_BATCH_TOUCHPOINT_VERDICTS`, true; see jobs/batch `touchpoint-verdicts.ts`).
   */
  readonly touchpointVerdicts: boolean;
  /** Attempts of every batch job (`SIGFLOW_BATCH_ATTEMPTS`, 3). */
  readonly attempts: number;
  /** First delay of the exponential backoff between attempts (`SIGFLOW_BATCH_BACKOFF_MS`, 2000). */
  readonly backoffMs: number;
  /** Completed jobs are kept this long for `jobs list/status` (`SIGFLOW_BATCH_KEEP_COMPLETED_MS`, 7 days). */
  readonly keepCompletedJobsMs: number;
  /** Failed jobs are kept this long (`SIGFLOW_BATCH_KEEP_FAILED_MS`, 30 days). */
  readonly keepFailedJobsMs: number;
  /** At most this many completed, and this many failed, jobs are kept (`SIGFLOW_BATCH_KEEP_JOBS`, 1000). */
  readonly keepJobs: number;
  /** Dirty hours recomputed per scheduled run at most, oldest first (`SIGFLOW_BATCH_MAX_DIRTY_HOURS`, 168). */
  readonly maxDirtyHoursPerRun: number;
  /** A sealed hour with at least this many archive files gets a `compact` job after its recompute (`SIGFLOW_BATCH_COMPACT_FROM_FILES`, 12). */
  readonly compactFromFiles: number;
  /**
   * BullMQ job lock, renewed every half of it while the job runs: a worker that dies (kill -9)
   * holds its job this long before a worker's stalled-job check hands it out again
   * (`SIGFLOW_BATCH_LOCK_MS`, 8000). A job's event loop must not stall this long (the rules run
   * in chunks that yield; DuckDB runs on its own threads), or the job is handed out twice (idempotent).
   */
  readonly lockDurationMs: number;
  /**
   * How often workers look for stalled jobs, jobs whose worker died
   * (`SIGFLOW_BATCH_STALLED_INTERVAL_MS`, 4000): with the 8 s lock, a killed worker's job runs
   * again within 12 s.
   */
  readonly stalledIntervalMs: number;
  /**
   * Cron pattern of the retention job (`SIGFLOW_BATCH_RETENTION_EVERY`, minute 40 of every
   * hour): removes archive hours older than `SIGFLOW_RETENTION_MS` with their batch views,
   * analysts' Parquet views and dirty marks, and tombstones past the retention.
   */
  readonly retentionEvery: string;
}

/**
 * The bidding service (`services/bidding`): it recomputes every budgeted campaign's pacing and bid
 * multipliers from the merged spend and attribution views, stores each answer for
 * `GET /v1/bidding/:campaignId` and publishes changes to `bidding.v1`. Times are ms.
 */
export interface BiddingConfig {
  /** Port of its /metrics, /healthz, /readyz (`SIGFLOW_BIDDING_METRICS_PORT`, 7005). */
  readonly metricsPort: number;
  /** Every budgeted campaign's answer is recomputed this often (`SIGFLOW_BIDDING_REFRESH_MS`, 1000). */
  readonly refreshMs: number;
  /** At most one `bidding.v1` message per campaign this often (`SIGFLOW_BIDDING_PUBLISH_INTERVAL_MS`, 1000). */
  readonly publishIntervalMs: number;
  /**
   * A stored answer disappears this long after its last refresh (`SIGFLOW_BIDDING_STATE_TTL_MS`,
   * 60000): while the service is down, bidders get 503 instead of a stale multiplier.
   */
  readonly stateTtlMs: number;
  /** One instance computes and publishes, holding a lease this long, renewed every refresh (`SIGFLOW_BIDDING_LEASE_MS`, 5000). */
  readonly leaseMs: number;
  /** This instance's name in the lease (`SIGFLOW_BIDDING_INSTANCE_ID`, host name and process id). */
  readonly instanceId: string;
  /**
   * The rules of pacing and the multiplier (DESIGN.md defaults): `SIGFLOW_BIDDING_WINDOW_MS`
   * (W, 3600000), `SIGFLOW_BIDDING_MODEL` (M, shapley), `SIGFLOW_BIDDING_MIN_CLICKS` (20),
   * `SIGFLOW_BIDDING_ROAS_FACTOR_MIN` / `_MAX` (0.25 / 4), `SIGFLOW_BIDDING_PACE_FACTOR_MIN` /
   * `_MAX` (0.5 / 1.5), `SIGFLOW_BIDDING_OVER_PACE` / `SIGFLOW_BIDDING_UNDER_PACE` (1.1 / 0.9),
   * `SIGFLOW_BIDDING_DEFAULT_TARGET_ROAS` (1.0).
   */
  readonly rules: BiddingSettings;
}

/**
 * API roles: `reader` < `analyst` < `ops` (each includes the ones before it); `privacy` stands
 * apart: only the privacy routes (a person's deletion and export), which `ops` may use too.
 */
export type Role = 'reader' | 'analyst' | 'ops' | 'privacy';

/** Personal data: deletion, export and IP handling (DESIGN.md "Data lifecycle"). */
export interface PrivacyConfig {
  /**
   * Salt of the tombstones' hashes (`SIGFLOW_PRIVACY_SALT`): a deleted person's id is kept only
   * as sha256(salt + TAB + id). Set a secret of your own in production; the default is for
   * development and tests. Changing it forgets every tombstone. Also keys the IP hash of the
   * flood rule in truncated mode.
   */
  readonly salt: string;
  /**
   * `SIGFLOW_PRIVACY_IP_MODE` (`full`): `truncated` zeroes the last IPv4 octet or the last 80
   * bits of an IPv6 address at the collector; the flood rule then sees a keyed hash of the full
   * address (`ip_key`) instead.
   */
  readonly ipMode: 'full' | 'truncated';
  /** How often collector, speed layer and archiver read new tombstones (`SIGFLOW_PRIVACY_REFRESH_MS`, 1000). */
  readonly refreshMs: number;
  /**
   * How long a deletion waits for the speed instance owning the person's partition to erase
   * their state inside its fenced commit before erasing it itself, taken as proof that no
   * instance owns it (`SIGFLOW_PRIVACY_SPEED_WAIT_MS`, 30000; above the speed session timeout).
   */
  readonly speedWaitMs: number;
  /**
   * After rewriting the archive, a deletion waits this long and checks every file again
   * (`SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS`, 3000): a flush that began before the archiver read the
   * tombstone lands within it and is rewritten too.
   */
  readonly archiveSettleMs: number;
  /**
   * A person's export first waits until the archiver has archived what Kafka held for their
   * partition, at most this long (`SIGFLOW_PRIVACY_EXPORT_WAIT_MS`, 30000), else answers 503.
   */
  readonly exportWaitMs: number;
}

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  /** key -> role. */
  readonly apiKeys: ReadonlyMap<string, Role>;
  readonly maxRangeMs: number;
  /** Campaign x hour reads one reconciliation request may make at most. */
  readonly maxCampaignHours: number;
  /**
   * Requests per minute per API key (per client address without a key), counted by each
   * server process: with several `processes` a key spread over connections may reach up to
   * `processes` times this (the limit guards Redis, it does not bill).
   */
  readonly rateLimitPerMinute: number;
  /**
   * Server processes sharing the port (`node:cluster`), each with its own Redis connections.
   * Default: one per core (`os.availableParallelism()`); 1 runs the server in the one process.
   */
  readonly processes: number;
  /**
   * A Redis command the API waits longer for fails (answered 503): while Redis is unreachable
   * (e.g. a network partition) requests are answered instead of hanging. With auto-pipelining a
   * command may first wait for the pipeline ahead of it, so a request waits about twice this.
   */
  readonly redisTimeoutMs: number;
  /**
   * View hashes that can no longer change kept per server process for the analyst reads
   * (`SIGFLOW_API_CLOSED_HOURS_CACHED`, default 2,000; 0 keeps none): batch versions' hashes and
   * the speed partitions' hashes of hours every partition's watermark has passed by more than
   * the allowed lateness (store's `ClosedHourCache`). A day by minute of one campaign is 24.
   */
  readonly closedHoursCached: number;
  /** How long one is kept at most (`SIGFLOW_API_CLOSED_HOURS_MAX_AGE_MS`, default 10 minutes). */
  readonly closedHoursMaxAgeMs: number;
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
  /** Where the archive lives: the local folder, or an S3-compatible bucket (`./archive-storage.ts`). */
  readonly archive: ArchiveStorageConfig;
  readonly batch: BatchConfig;
  readonly api: ApiConfig;
  readonly bidding: BiddingConfig;
  readonly privacy: PrivacyConfig;
  readonly segments: SegmentsConfig;
  readonly alerts: AlertsConfig;
  readonly sql: SqlConfig;
}

const DAY = 86_400_000;
const ROLES: readonly Role[] = ['reader', 'analyst', 'ops', 'privacy'];

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

/** `key:site` entries (the site is what follows the last colon). */
function parseSiteKeys(variable: string, entries: string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.lastIndexOf(':');
    const key = at > 0 ? entry.slice(0, at) : '';
    const site = entry.slice(at + 1);
    if (!key || !/^[A-Za-z0-9._-]{1,64}$/.test(site)) {
      throw new ConfigError(variable, `expected "key:site" with a site of 1-64 letters, digits, '.', '_' or '-', got "${entry}"`);
    }
    keys.set(key, site);
  }
  return keys;
}

/** An http(s) base URL without query or fragment, or undefined when empty. */
function parsePublicUrl(variable: string, value: string): string | undefined {
  if (value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `expected a URL like https://collect.example.com, got "${value}"`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash) throw new ConfigError(variable, `"${value}" is not an http(s) URL without query`);
  return url.href.replace(/\/$/, '');
}

/** Origins as browsers send them (`scheme://host[:port]`), or `*`. */
function parseOrigins(variable: string, entries: string[]): string[] {
  return entries.map((entry) => {
    if (entry === '*') return entry;
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(variable, `expected origins like https://shop.example (or *), got "${entry}"`);
    }
    if (url.origin === 'null' || url.origin !== entry.replace(/\/$/, '')) {
      throw new ConfigError(variable, `"${entry}" is not an origin (scheme://host[:port], no path)`);
    }
    return url.origin;
  });
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
    mouseGridPx: r.int('SIGFLOW_RULE_MOUSE_GRID_PX', d.mouseGridPx, 1, 10_000),
    segmentMembershipTtlMs: r.int('SIGFLOW_RULE_SEGMENT_MEMBERSHIP_TTL_MS', d.segmentMembershipTtlMs, 60_000),
  };
}

function biddingSettings(r: EnvReader): BiddingSettings {
  const d = defaultBiddingSettings;
  const settings: BiddingSettings = {
    windowMs: r.int('SIGFLOW_BIDDING_WINDOW_MS', d.windowMs, 1),
    model: r.oneOf<RealTimeModel>('SIGFLOW_BIDDING_MODEL', d.model, realTimeModels),
    minClicks: r.int('SIGFLOW_BIDDING_MIN_CLICKS', d.minClicks, 0),
    roasFactorMin: r.number('SIGFLOW_BIDDING_ROAS_FACTOR_MIN', d.roasFactorMin, 0),
    roasFactorMax: r.number('SIGFLOW_BIDDING_ROAS_FACTOR_MAX', d.roasFactorMax, 0),
    paceFactorMin: r.number('SIGFLOW_BIDDING_PACE_FACTOR_MIN', d.paceFactorMin, 0),
    paceFactorMax: r.number('SIGFLOW_BIDDING_PACE_FACTOR_MAX', d.paceFactorMax, 0),
    overPace: r.number('SIGFLOW_BIDDING_OVER_PACE', d.overPace, 0),
    underPace: r.number('SIGFLOW_BIDDING_UNDER_PACE', d.underPace, 0),
    defaultTargetRoas: r.number('SIGFLOW_BIDDING_DEFAULT_TARGET_ROAS', d.defaultTargetRoas, 0),
  };
  try {
    return checkBiddingSettings(settings);
  } catch (err) {
    if (err instanceof InvalidRuleSettingsError) throw new ConfigError('SIGFLOW_BIDDING_*', err.message);
    throw err;
  }
}

function biddingConfig(r: EnvReader): BiddingConfig {
  return {
    metricsPort: r.int('SIGFLOW_BIDDING_METRICS_PORT', 7005, 0, 65535),
    refreshMs: r.int('SIGFLOW_BIDDING_REFRESH_MS', 1_000, 50),
    publishIntervalMs: r.int('SIGFLOW_BIDDING_PUBLISH_INTERVAL_MS', 1_000, 0),
    stateTtlMs: r.int('SIGFLOW_BIDDING_STATE_TTL_MS', 60_000, 1_000),
    leaseMs: r.int('SIGFLOW_BIDDING_LEASE_MS', 5_000, 500),
    instanceId: r.string('SIGFLOW_BIDDING_INSTANCE_ID', `${hostname()}-bidding-${process.pid}`),
    rules: biddingSettings(r),
  };
}

/** Settings no longer read, and what replaced them: set, they would do nothing, so they are refused. */
const REPLACED_SETTINGS: Readonly<Record<string, string>> = {
  SIGFLOW_SPEED_CACHED_USERS_PER_PARTITION: 'SIGFLOW_SPEED_CACHED_USERS (users a speed process keeps in memory, shared by the partitions it owns)',
  SIGFLOW_SPEED_FETCH_MAX_BYTES_PER_PARTITION: 'SIGFLOW_SPEED_FETCH_MAX_BYTES (bytes of a fetch round, shared by the partitions a speed process owns)',
};

/**
 * A consumer's static member id (KIP-345): `<prefix>_INSTANCE_ID`, else the host and
 * `<prefix>_INSTANCE_SLOT`, else the host and the metrics port, which two processes of one host
 * cannot share (two started alike under one id fence each other and run as one), else, with
 * port 0, the process id (no id a restart keeps).
 */
function staticMemberId(r: EnvReader, env: Env, prefix: string, role: string, metricsPort: number): string {
  const slotVariable = `${prefix}_INSTANCE_SLOT`;
  const slot = env[slotVariable] !== undefined ? String(r.int(slotVariable, 0, 0, 1_000)) : metricsPort > 0 ? `port${metricsPort}` : `pid${process.pid}`;
  return r.string(`${prefix}_INSTANCE_ID`, `${hostname()}-${role}-${slot}`);
}

/**
 * Reads the whole configuration from environment variables. Every default lives here
 * (rule defaults live with the rules in `@sigflow/core`). Throws {@link ConfigError}
 * naming the variable when a value is unusable.
 */
export function loadConfig(env: Env = process.env): SigflowConfig {
  for (const [name, replacement] of Object.entries(REPLACED_SETTINGS)) {
    if (env[name] !== undefined) throw new ConfigError(name, `is no longer read; set ${replacement}`);
  }
  const r = new EnvReader(env);
  const speedPort = r.int('SIGFLOW_SPEED_METRICS_PORT', 7002, 0, 65535);
  const archiverPort = r.int('SIGFLOW_ARCHIVER_METRICS_PORT', 7003, 0, 65535);
  const retentionMs = r.int('SIGFLOW_RETENTION_MS', 90 * DAY, 60_000);
  const config: SigflowConfig = {
    logLevel: r.oneOf('SIGFLOW_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    metricsHost: r.string('SIGFLOW_METRICS_HOST', '127.0.0.1'),
    kafka: kafkaConfig(r),
    redis: redisConfig(r),
    limits: {
      retentionMs,
      maxFutureMs: r.int('SIGFLOW_MAX_FUTURE_MS', 5 * 60_000, 0),
    },
    rules: ruleSettings(r),
    collector: {
      host: r.string('SIGFLOW_COLLECTOR_HOST', '127.0.0.1'),
      port: r.int('SIGFLOW_COLLECTOR_PORT', 7001, 0, 65535),
      apiKeys: r.list('SIGFLOW_COLLECTOR_API_KEYS', []),
      siteKeys: parseSiteKeys('SIGFLOW_COLLECTOR_SITE_KEYS', r.list('SIGFLOW_COLLECTOR_SITE_KEYS', [])),
      allowedOrigins: parseOrigins('SIGFLOW_COLLECTOR_ALLOWED_ORIGINS', r.list('SIGFLOW_COLLECTOR_ALLOWED_ORIGINS', [])),
      segmentMapping: segmentMappings(r),
      publicUrl: parsePublicUrl('SIGFLOW_COLLECTOR_PUBLIC_URL', r.string('SIGFLOW_COLLECTOR_PUBLIC_URL', '')),
      trustProxy: r.bool('SIGFLOW_COLLECTOR_TRUST_PROXY', false),
      sdkMaxAgeSeconds: r.int('SIGFLOW_COLLECTOR_SDK_MAX_AGE_S', 300, 0, 31_536_000),
      // Under the 5 s a client may wait for an answer: past it, a clear 503 beats a hang.
      produceTimeoutMs: r.int('SIGFLOW_COLLECTOR_PRODUCE_TIMEOUT_MS', 4_000, 100),
      retryAfterSeconds: r.int('SIGFLOW_COLLECTOR_RETRY_AFTER_S', 5, 1),
      processes: r.int('SIGFLOW_COLLECTOR_PROCESSES', availableParallelism(), 1, 256),
    },
    speed: {
      metricsPort: speedPort,
      groupId: r.string('SIGFLOW_SPEED_GROUP', 'speed'),
      instanceId: staticMemberId(r, env, 'SIGFLOW_SPEED', 'speed', speedPort),
      viewTtlMs: r.int('SIGFLOW_SPEED_VIEW_TTL_MS', 8 * DAY, 60_000),
      userTtlMs: r.int('SIGFLOW_SPEED_USER_TTL_MS', 30 * DAY, 60_000),
      signalsCap: r.int('SIGFLOW_SPEED_SIGNALS_CAP', 1_000, 1, 100_000),
      recentUsers: r.int('SIGFLOW_SPEED_RECENT_USERS', 200, 0, 10_000),
      snapshotEvery: r.int('SIGFLOW_SPEED_SNAPSHOT_EVERY', 32, 1, 10_000),
      cachedUsers: r.int('SIGFLOW_SPEED_CACHED_USERS', 1_000_000, 1),
      cacheHeapMb: r.int('SIGFLOW_SPEED_CACHE_HEAP_MB', 16, 16),
      shapleyRefreshMs: r.int('SIGFLOW_SPEED_SHAPLEY_REFRESH_MS', 5_000, 100),
      sessionTimeoutMs: r.int('SIGFLOW_SPEED_SESSION_TIMEOUT_MS', 6_000, 1_000),
      heartbeatIntervalMs: r.int('SIGFLOW_SPEED_HEARTBEAT_MS', 500, 100),
      fetchMaxWaitMs: r.int('SIGFLOW_SPEED_FETCH_MAX_WAIT_MS', 100, 1),
      fetchMaxBytes: r.int('SIGFLOW_SPEED_FETCH_MAX_BYTES', 4 * 1_048_576, 65_536),
      warmUp: r.bool('SIGFLOW_SPEED_WARM_UP', true),
    },
    archiver: {
      metricsPort: archiverPort,
      groupId: r.string('SIGFLOW_ARCHIVER_GROUP', 'archiver'),
      dir: r.string('SIGFLOW_ARCHIVE_DIR', 'var/archive'),
      flushEvents: r.int('SIGFLOW_ARCHIVER_FLUSH_EVENTS', 50_000, 1),
      flushMs: r.int('SIGFLOW_ARCHIVER_FLUSH_MS', 5_000, 10),
      lagPollMs: r.int('SIGFLOW_ARCHIVER_LAG_POLL_MS', 5_000, 100),
      idleWatermarkDelayMs: r.int('SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS', 300_000, 0),
      duckdbThreads: r.int('SIGFLOW_ARCHIVER_DUCKDB_THREADS', 1, 1, 64),
      writeLanes: r.int('SIGFLOW_ARCHIVER_WRITE_LANES', 2, 1, 64),
      instanceId: staticMemberId(r, env, 'SIGFLOW_ARCHIVER', 'archiver', archiverPort),
      sessionTimeoutMs: r.int('SIGFLOW_ARCHIVER_SESSION_TIMEOUT_MS', 6_000, 1_000),
      heartbeatIntervalMs: r.int('SIGFLOW_ARCHIVER_HEARTBEAT_MS', 500, 100),
    },
    batch: {
      metricsPort: r.int('SIGFLOW_BATCH_METRICS_PORT', 7004, 0, 65535),
      queueName: r.string('SIGFLOW_BATCH_QUEUE', 'batch'),
      recomputeEvery: r.string('SIGFLOW_BATCH_RECOMPUTE_EVERY', '*/5 * * * *'),
      retrainEvery: r.string('SIGFLOW_BATCH_RETRAIN_EVERY', '15 3 * * *'),
      viewTtlMs: r.int('SIGFLOW_BATCH_VIEW_TTL_MS', retentionMs, 60_000),
      pendingTtlMs: r.int('SIGFLOW_BATCH_PENDING_TTL_MS', 6 * 3_600_000, 60_000),
      oldVersionTtlMs: r.int('SIGFLOW_BATCH_OLD_VERSION_TTL_MS', 3_600_000, 1_000),
      hoursPerPass: r.int('SIGFLOW_BATCH_HOURS_PER_PASS', 2, 1, 24 * 31),
      duckdbThreads: r.int('SIGFLOW_BATCH_DUCKDB_THREADS', 2, 1, 64),
      ruleThreads: r.int('SIGFLOW_BATCH_RULE_THREADS', 1, 1, 64),
      hoursPerPart: r.int('SIGFLOW_BATCH_HOURS_PER_PART', 4, 1, 24 * 31),
      workers: r.int('SIGFLOW_BATCH_WORKERS', 2, 1, 64),
      workerRecycleBytes: r.int('SIGFLOW_BATCH_WORKER_RECYCLE_MB', 1_024, 0) * 1024 * 1024,
      nice: r.int('SIGFLOW_BATCH_NICE', 0, 0, 19),
      duckdbMemoryLimit: r.string('SIGFLOW_BATCH_DUCKDB_MEMORY', '768MB'),
      viewEventsOnly: r.bool('SIGFLOW_BATCH_VIEW_EVENTS_ONLY', true),
      writeViewParquet: r.bool('SIGFLOW_BATCH_VIEW_PARQUET', true),
      touchpointVerdicts: r.bool('SIGFLOW_BATCH_TOUCHPOINT_VERDICTS', true),
      attempts: r.int('SIGFLOW_BATCH_ATTEMPTS', 3, 1, 100),
      backoffMs: r.int('SIGFLOW_BATCH_BACKOFF_MS', 2_000, 0),
      keepCompletedJobsMs: r.int('SIGFLOW_BATCH_KEEP_COMPLETED_MS', 7 * DAY, 1_000),
      keepFailedJobsMs: r.int('SIGFLOW_BATCH_KEEP_FAILED_MS', 30 * DAY, 1_000),
      keepJobs: r.int('SIGFLOW_BATCH_KEEP_JOBS', 1_000, 1),
      maxDirtyHoursPerRun: r.int('SIGFLOW_BATCH_MAX_DIRTY_HOURS', 168, 1),
      compactFromFiles: r.int('SIGFLOW_BATCH_COMPACT_FROM_FILES', 12, 2),
      lockDurationMs: r.int('SIGFLOW_BATCH_LOCK_MS', 8_000, 1_000),
      stalledIntervalMs: r.int('SIGFLOW_BATCH_STALLED_INTERVAL_MS', 4_000, 500),
      retentionEvery: r.string('SIGFLOW_BATCH_RETENTION_EVERY', '40 * * * *'),
    },
    api: {
      host: r.string('SIGFLOW_API_HOST', '127.0.0.1'),
      port: r.int('SIGFLOW_API_PORT', 7000, 0, 65535),
      apiKeys: parseApiKeys('SIGFLOW_API_KEYS', r.list('SIGFLOW_API_KEYS', [])),
      maxRangeMs: r.int('SIGFLOW_API_MAX_RANGE_MS', 31 * DAY, 60_000),
      maxCampaignHours: r.int('SIGFLOW_API_MAX_CAMPAIGN_HOURS', 20_000, 1),
      rateLimitPerMinute: r.int('SIGFLOW_API_RATE_LIMIT_PER_MINUTE', 600_000, 1),
      processes: r.int('SIGFLOW_API_PROCESSES', availableParallelism(), 1, 256),
      redisTimeoutMs: r.int('SIGFLOW_API_REDIS_TIMEOUT_MS', 1_500, 100),
      closedHoursCached: r.int('SIGFLOW_API_CLOSED_HOURS_CACHED', 2_000, 0, 1_000_000),
      closedHoursMaxAgeMs: r.int('SIGFLOW_API_CLOSED_HOURS_MAX_AGE_MS', 600_000, 1_000),
    },
    bidding: biddingConfig(r),
    privacy: {
      salt: r.string('SIGFLOW_PRIVACY_SALT', 'sigflow-development-salt'),
      ipMode: r.oneOf('SIGFLOW_PRIVACY_IP_MODE', 'full', ['full', 'truncated']),
      refreshMs: r.int('SIGFLOW_PRIVACY_REFRESH_MS', 1_000, 50),
      speedWaitMs: r.int('SIGFLOW_PRIVACY_SPEED_WAIT_MS', 30_000, 100),
      archiveSettleMs: r.int('SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS', 3_000, 0),
      exportWaitMs: r.int('SIGFLOW_PRIVACY_EXPORT_WAIT_MS', 30_000, 0),
    },
    segments: segmentsConfig(r),
    alerts: alertsConfig(r),
    sql: sqlConfig(r),
    archive: archiveStorageConfig(r, r.string('SIGFLOW_ARCHIVE_DIR', 'var/archive')),
  };
  // A membership cannot outlive the speed layer's state of its user.
  if (config.rules.segmentMembershipTtlMs > config.speed.userTtlMs) {
    throw new ConfigError('SIGFLOW_RULE_SEGMENT_MEMBERSHIP_TTL_MS', `must not exceed SIGFLOW_SPEED_USER_TTL_MS (${config.speed.userTtlMs})`);
  }
  return config;
}
