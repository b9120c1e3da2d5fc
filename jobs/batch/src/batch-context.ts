import path from 'node:path';
import type { Redis } from 'ioredis';
import type { SigflowConfig } from '@sigflow/config';
import type { RuleSettings } from '@sigflow/core';
import { topicsFor } from '@sigflow/events';
import { StoreKeys } from '@sigflow/store';

/**
 * Knobs of the batch layer that are not (yet) in `@sigflow/config`; each has a default here and
 * an environment variable the worker reads (see `batchOptionsFromEnv`).
 */
export interface BatchOptions {
  /** TTL of a serving batch version's keys (default: the event retention). */
  readonly viewTtlSeconds: number;
  /** TTL of a version's keys while it is being written (a failed job's keys vanish after it). */
  readonly pendingTtlSeconds: number;
  /** How long a replaced version stays readable (readers mid-flight). */
  readonly oldVersionTtlSeconds: number;
  /** Hours recomputed per DuckDB pass (bounds memory; each pass reads its own context). */
  readonly hoursPerPass: number;
  /** DuckDB threads and memory limit ('' = DuckDB's default, 80 % of RAM); beyond it DuckDB spills to disk. */
  readonly duckdbThreads: number;
  readonly duckdbMemoryLimit: string;
  /** Run the rules over the event types that reach views only (see `viewEventTypes`). */
  readonly viewEventsOnly: boolean;
  /** Also write the views as Parquet under `views/` for analysts. */
  readonly writeViewParquet: boolean;
  /** Job attempts and the first backoff delay (exponential). */
  readonly attempts: number;
  readonly backoffMs: number;
  /** Dirty hours recomputed per scheduled run at most (oldest first). */
  readonly maxDirtyHoursPerRun: number;
}

export const defaultBatchOptions = (config: SigflowConfig): BatchOptions =>
  Object.freeze({
    viewTtlSeconds: Math.ceil(config.limits.retentionMs / 1000),
    pendingTtlSeconds: 6 * 3600,
    oldVersionTtlSeconds: 3600,
    hoursPerPass: 24,
    duckdbThreads: 2,
    duckdbMemoryLimit: '2GB',
    viewEventsOnly: true,
    writeViewParquet: true,
    attempts: 3,
    backoffMs: 2_000,
    maxDirtyHoursPerRun: 168,
  });

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

/** {@link BatchOptions} with overrides from SIGFLOW_BATCH_* environment variables. */
export function batchOptionsFromEnv(config: SigflowConfig, env: Env = process.env): BatchOptions {
  const d = defaultBatchOptions(config);
  return {
    viewTtlSeconds: int(env, 'SIGFLOW_BATCH_VIEW_TTL_S', d.viewTtlSeconds, 60),
    pendingTtlSeconds: int(env, 'SIGFLOW_BATCH_PENDING_TTL_S', d.pendingTtlSeconds, 60),
    oldVersionTtlSeconds: int(env, 'SIGFLOW_BATCH_OLD_VERSION_TTL_S', d.oldVersionTtlSeconds, 1),
    hoursPerPass: int(env, 'SIGFLOW_BATCH_HOURS_PER_PASS', d.hoursPerPass, 1),
    duckdbThreads: int(env, 'SIGFLOW_BATCH_DUCKDB_THREADS', d.duckdbThreads, 1),
    duckdbMemoryLimit: env['SIGFLOW_BATCH_DUCKDB_MEMORY'] ?? d.duckdbMemoryLimit,
    viewEventsOnly: !/^(0|false|no|off)$/i.test(env['SIGFLOW_BATCH_VIEW_EVENTS_ONLY'] ?? 'true'),
    writeViewParquet: !/^(0|false|no|off)$/i.test(env['SIGFLOW_BATCH_VIEW_PARQUET'] ?? 'true'),
    attempts: int(env, 'SIGFLOW_BATCH_ATTEMPTS', d.attempts, 1),
    backoffMs: int(env, 'SIGFLOW_BATCH_BACKOFF_MS', d.backoffMs, 0),
    maxDirtyHoursPerRun: int(env, 'SIGFLOW_BATCH_MAX_DIRTY_HOURS', d.maxDirtyHoursPerRun, 1),
  };
}

/** Everything a batch job works with. */
export interface BatchContext {
  readonly config: SigflowConfig;
  readonly redis: Redis;
  readonly keys: StoreKeys;
  /** Archive root (absolute). */
  readonly root: string;
  /** The events topic (archive watermarks are per partition of it). */
  readonly topic: string;
  readonly settings: RuleSettings;
  readonly options: BatchOptions;
}

export function createBatchContext(config: SigflowConfig, redis: Redis, options: Partial<BatchOptions> = {}): BatchContext {
  return {
    config,
    redis,
    keys: new StoreKeys(config.redis.keyPrefix),
    root: path.resolve(config.archiver.dir),
    topic: topicsFor(config.kafka.topicPrefix).events,
    settings: config.rules,
    options: { ...defaultBatchOptions(config), ...options },
  };
}
