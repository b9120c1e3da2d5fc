import path from 'node:path';
import { type RedisClient, StoreKeys } from '@sigflow/store';
import type { SigflowConfig } from '@sigflow/config';
import type { RuleSettings } from '@sigflow/core';
import { topicsFor } from '@sigflow/events';
import { noOpsRecorder, type OpsRecorder } from '@sigflow/ops-log';
import { LocalArchiveStorage, openArchiveStorage, type ArchiveStorage } from '@sigflow/archive';
import type { Logger } from '@sigflow/observability';

/**
 * Everything a batch job works with. Its knobs are `config.batch` (defaults and variables in
 * `@sigflow/config`); a test that wants another value passes another configuration.
 */
export interface BatchContext {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  /**
   * This host's archive folder (absolute, `SIGFLOW_ARCHIVE_DIR`): the archive itself on a local
   * folder, only the staging folders when the archive is on S3. Files are read and written
   * through {@link archive}.
   */
  readonly root: string;
  /** Where the archive's files are: the local folder, or the S3 bucket with this process's cache. */
  readonly archive: ArchiveStorage;
  /** The events topic (archive watermarks are per partition of it). */
  readonly topic: string;
  readonly settings: RuleSettings;
  /** Where published models and tombstones are also kept (the ops topic); default: nowhere (tests). */
  readonly ops: OpsRecorder;
}

/**
 * A context over `archive` (default: the local folder `SIGFLOW_ARCHIVE_DIR`; an archive on S3 is
 * opened by {@link openBatchContext}).
 */
export function createBatchContext(config: SigflowConfig, redis: RedisClient, ops: OpsRecorder = noOpsRecorder, archive?: ArchiveStorage): BatchContext {
  const root = path.resolve(config.archiver.dir);
  if (!archive && config.archive.s3) throw new Error('the archive is on S3 (SIGFLOW_ARCHIVE_URL): open the batch context with openBatchContext');
  return {
    ops,
    config,
    redis,
    keys: new StoreKeys(config.redis.keyPrefix),
    root,
    archive: archive ?? new LocalArchiveStorage(root),
    topic: topicsFor(config.kafka.topicPrefix).events,
    settings: config.rules,
  };
}

/** A context over the configured archive storage (on S3 with a cache of this process's own); close its `archive` when done. */
export async function openBatchContext(config: SigflowConfig, redis: RedisClient, ops: OpsRecorder = noOpsRecorder, logger?: Logger): Promise<BatchContext> {
  const archive = await openArchiveStorage(
    { dir: config.archiver.dir, ...config.archive },
    { reads: true, onCacheOverflow: (bytes) => logger?.warn({ bytes, bound: config.archive.cacheBytes }, 'archive cache holds more than its bound: files in use') },
  );
  return createBatchContext(config, redis, ops, archive);
}

/** A TTL in ms as the whole seconds Redis EXPIRE takes (at least 1). */
export function ttlSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
