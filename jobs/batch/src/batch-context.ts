import path from 'node:path';
import type { Redis } from 'ioredis';
import type { SigflowConfig } from '@sigflow/config';
import type { RuleSettings } from '@sigflow/core';
import { topicsFor } from '@sigflow/events';
import { StoreKeys } from '@sigflow/store';

/**
 * The batch layer's knobs in the units its code uses. Their defaults and environment variables
 * are in `@sigflow/config` (section `batch`); tests override single fields.
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

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The configured {@link BatchOptions}. */
export const defaultBatchOptions = (config: SigflowConfig): BatchOptions => {
  const b = config.batch;
  return Object.freeze({
    viewTtlSeconds: seconds(b.viewTtlMs),
    pendingTtlSeconds: seconds(b.pendingTtlMs),
    oldVersionTtlSeconds: seconds(b.oldVersionTtlMs),
    hoursPerPass: b.hoursPerPass,
    duckdbThreads: b.duckdbThreads,
    duckdbMemoryLimit: b.duckdbMemoryLimit,
    viewEventsOnly: b.viewEventsOnly,
    writeViewParquet: b.writeViewParquet,
    attempts: b.attempts,
    backoffMs: b.backoffMs,
    maxDirtyHoursPerRun: b.maxDirtyHoursPerRun,
  });
};

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
