import { hourFolderKey, type ArchiveStorage } from '@sigflow/archive';
import { unlinkKeys } from '@sigflow/store';
import { batchVersionKeysKey, parseBatchHourEntry } from '@sigflow/store/batch';
import { pruneTombstones } from '@sigflow/store/ops';
import type { BatchContext } from './batch-context.js';
import { hourStart } from './hour-range.js';

/** What one retention run removed. */
export interface RetentionResult {
  /** Hours starting before this (ms) were expired: all their events are older than the retention. */
  readonly cutoff: number;
  /** Archive hours removed (their folders, with every file). */
  readonly hours: number[];
  readonly archiveFiles: number;
  /** Analysts' Parquet view files removed. */
  readonly viewFiles: number;
  /** Touchpoint verdict files removed. */
  readonly verdictFiles: number;
  /** Hours whose serving batch version was removed (entry and keys). */
  readonly batchHours: number;
  readonly batchKeys: number;
  readonly dirtyHours: number;
  readonly tombstones: number;
}

/** Removes the hour folders of a `dt=/hr=` tree older than `cutoff`; returns the hours and the published files they held. */
async function removeExpiredHourFolders(archive: ArchiveStorage, tree: string, cutoff: number): Promise<{ hours: number[]; files: number }> {
  const hours = (await archive.hours(tree)).filter((h) => h < cutoff);
  let files = 0;
  for (const hour of hours) files += await archive.removeFolder(hourFolderKey(tree, hour));
  return { hours, files };
}

/** Removes the serving batch versions of hours before `cutoff`: their keys, entries and dirty marks. */
async function removeBatchHours(ctx: BatchContext, cutoff: number): Promise<{ hours: number; keys: number; dirty: number }> {
  const { redis, keys } = ctx;
  let removedKeys = 0;
  const entries = await redis.hgetall(keys.batchHours());
  const expired = Object.keys(entries).filter((h) => Number(h) < cutoff);
  for (const h of expired) {
    const entry = parseBatchHourEntry(entries[h]);
    if (entry) {
      const setKey = batchVersionKeysKey(keys, Number(h), entry.version);
      const members = await redis.smembers(setKey);
      for (let i = 0; i < members.length; i += 500) removedKeys += await unlinkKeys(redis, members.slice(i, i + 500));
      removedKeys += await redis.unlink(setKey);
    }
    await redis.hdel(keys.batchHours(), h);
  }
  const dirty = (await redis.zrange(keys.dirtyHours(), 0, -1)).filter((h) => Number(h) < cutoff);
  if (dirty.length > 0) await redis.zrem(keys.dirtyHours(), ...dirty);
  return { hours: expired.length, keys: removedKeys, dirty: dirty.length };
}

/**
 * Enforces the retention (`SIGFLOW_RETENTION_MS`, DESIGN.md "Data lifecycle"): every hour whose
 * events are all older than it goes, the batch views first (its serving version's keys, its
 * entry, its dirty mark: nothing points at the hour any more), then its archive folder and its
 * analysts' Parquet views and its touchpoint verdicts; tombstones older than the retention go
 * too (no event that old is accepted any more). Hours inside the retention are not touched.
 * Idempotent.
 */
export async function enforceRetention(options: { context: BatchContext; now?: number }): Promise<RetentionResult> {
  const ctx = options.context;
  const now = options.now ?? Date.now();
  const retentionMs = ctx.config.limits.retentionMs;
  const cutoff = hourStart(now - retentionMs);
  const batch = await removeBatchHours(ctx, cutoff);
  const { hours, files: archiveFiles } = await removeExpiredHourFolders(ctx.archive, 'events', cutoff);
  let viewFiles = 0;
  for (const view of await ctx.archive.subfolders('views')) viewFiles += (await removeExpiredHourFolders(ctx.archive, `views/${view}`, cutoff)).files;
  const verdictFiles = (await removeExpiredHourFolders(ctx.archive, 'verdicts', cutoff)).files;
  const tombstones = await pruneTombstones(ctx.redis, ctx.keys, now - retentionMs);
  return { cutoff, hours, archiveFiles, viewFiles, verdictFiles, batchHours: batch.hours, batchKeys: batch.keys, dirtyHours: batch.dirty, tombstones };
}
