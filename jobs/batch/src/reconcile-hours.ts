import { batchVersionKeysKey, readBatchHourEntries } from '@sigflow/store/batch';
import { layersDiffer } from '@sigflow/serving';
import { ttlSeconds, type BatchContext } from './batch-context.js';
import { hourChangeCommands } from './hour-changes.js';
import { hoursOf } from './hour-range.js';
import type { JobProgress } from './recompute-hours.js';
import { sendCommands } from './redis-commands.js';

export interface ReconcileResult {
  /** Hours that have a batch version (the others are skipped). */
  readonly hours: number;
  /** Campaign rows written. */
  readonly campaigns: number;
  /** Campaign-hours where batch and speed differ in any count. */
  readonly differing: number;
}

/**
 * Refreshes "what changed against the speed view" for the serving batch version of each hour
 * of [from, to): the speed views keep moving after a recompute (late events, a lagging speed
 * layer), so the reconciliation route reads a fresh comparison after this job.
 */
export async function reconcileHours(options: {
  context: BatchContext;
  from: number;
  to: number;
  onProgress?: (progress: JobProgress) => void | Promise<void>;
}): Promise<ReconcileResult> {
  const ctx = options.context;
  const { redis, keys } = ctx;
  const hours = hoursOf(options.from, options.to);
  const entries = await readBatchHourEntries(redis, keys, hours);
  let done = 0;
  let campaigns = 0;
  let differing = 0;
  for (const hour of hours) {
    const entry = entries.get(hour);
    if (entry) {
      const setKey = batchVersionKeysKey(keys, hour, entry.version);
      const prefix = `${keys.prefix}:batch:metrics:`;
      const suffix = `:${hour}:${entry.version}`;
      const batchCampaigns = (await redis.smembers(setKey))
        .filter((k) => k.startsWith(prefix) && k.endsWith(suffix))
        .map((k) => k.slice(prefix.length, k.length - suffix.length));
      const { commands, changes } = await hourChangeCommands(
        redis,
        keys,
        hour,
        entry.version,
        batchCampaigns,
        entry.shapleyVersion,
        ttlSeconds(ctx.config.batch.viewTtlMs),
        ctx.config.kafka.eventPartitions,
      );
      commands.push(['SADD', setKey, keys.batchChanges(hour, entry.version)]);
      await sendCommands(redis, commands);
      campaigns += changes.length;
      differing += changes.filter(layersDiffer).length;
    }
    done++;
    await options.onProgress?.({ hoursDone: done, hoursTotal: hours.length, rowsRead: 0, percent: Math.round((done / hours.length) * 1000) / 10 });
  }
  return { hours: entries.size, campaigns, differing };
}
