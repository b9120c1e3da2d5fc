import fs from 'node:fs/promises';
import path from 'node:path';
import { listArchiveHours, listHourFiles, parseHourPartition, hourFolder } from '@sigflow/archive';
import { batchVersionKeysKey, parseBatchHourEntry, pruneTombstones, unlinkKeys } from '@sigflow/store';
import type { BatchContext } from './batch-context.js';
import { floorHour } from './hour-range.js';

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

/** Hours of a `dt=/hr=` tree under `base`, with their folders. */
async function hourFolders(base: string): Promise<{ hour: number; dir: string }[]> {
  const out: { hour: number; dir: string }[] = [];
  for (const dt of await fs.readdir(base).catch(() => [] as string[])) {
    for (const hr of await fs.readdir(path.join(base, dt)).catch(() => [] as string[])) {
      const hour = parseHourPartition(dt, hr);
      if (hour !== null) out.push({ hour, dir: path.join(base, dt, hr) });
    }
  }
  return out;
}

/** Removes a folder and, if that empties it, its `dt=` parent. */
async function removeHourFolder(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rmdir(path.dirname(dir)).catch(() => undefined);
}

/** Removes the hour folders of a `dt=/hr=` tree under `base` older than `cutoff`; returns the Parquet files they held. */
async function removeExpiredHourFolders(base: string, cutoff: number): Promise<number> {
  let files = 0;
  for (const { hour, dir } of await hourFolders(base)) {
    if (hour >= cutoff) continue;
    files += (await fs.readdir(dir)).filter((n) => n.endsWith('.parquet')).length;
    await removeHourFolder(dir);
  }
  return files;
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
  const cutoff = floorHour(now - retentionMs);
  const batch = await removeBatchHours(ctx, cutoff);
  const hours = (await listArchiveHours(ctx.root)).filter((h) => h < cutoff);
  let archiveFiles = 0;
  for (const h of hours) {
    archiveFiles += (await listHourFiles(ctx.root, h)).length;
    await removeHourFolder(hourFolder(ctx.root, h));
  }
  let viewFiles = 0;
  const viewsRoot = path.join(ctx.root, 'views');
  for (const view of await fs.readdir(viewsRoot).catch(() => [] as string[])) viewFiles += await removeExpiredHourFolders(path.join(viewsRoot, view), cutoff);
  const verdictFiles = await removeExpiredHourFolders(path.join(ctx.root, 'verdicts'), cutoff);
  const tombstones = await pruneTombstones(ctx.redis, ctx.keys, now - retentionMs);
  return { cutoff, hours, archiveFiles, viewFiles, verdictFiles, batchHours: batch.hours, batchKeys: batch.keys, dirtyHours: batch.dirty, tombstones };
}
