import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readArchiveWatermarks, readBatchWatermark } from '@sigflow/store/batch';
import { archiveSealedThrough, hourFiles, type ArchiveStorage } from '@sigflow/archive';
import type { RuleSettings } from '@sigflow/core';
import { hourStart, HOUR_MS } from './hour-range.js';

/**
 * The batch watermark candidate: the end of the run of consecutive hours, from the current
 * watermark (or the earliest computed hour), each of which is SEALED and either computed or
 * empty in the archive. An hour is sealed when every partition's archive watermark is past its
 * end + the watermark delay + the allowed lateness (`archiveSealedThrough`). The switch script
 * then lowers it to the earliest hour still dirty, so the watermark never covers an hour whose
 * archive changed after it was computed. Null while nothing is computed or no partition reported.
 */
export async function batchWatermarkCandidate(
  redis: RedisClient,
  keys: StoreKeys,
  options: { archive: ArchiveStorage; topic: string; settings: RuleSettings; newlyComputed?: readonly number[] },
): Promise<number | null> {
  const sealedThrough = archiveSealedThrough(await readArchiveWatermarks(redis, keys, options.topic), options.settings);
  if (sealedThrough === null) return null;
  const computed = new Set((await redis.hkeys(keys.batchHours())).map(Number));
  for (const h of options.newlyComputed ?? []) computed.add(h);
  if (computed.size === 0) return null;
  const current = await readBatchWatermark(redis, keys);
  // Hours below the current watermark were checked when it passed them; a file landing there
  // since makes its hour dirty, which the switch script accounts for.
  let h = current !== null ? hourStart(current) : Math.min(...computed);
  while (h + HOUR_MS <= sealedThrough) {
    if (!computed.has(h) && (await hourFiles(options.archive, h)).length > 0) break;
    h += HOUR_MS;
  }
  return h;
}
