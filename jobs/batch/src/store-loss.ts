import { installSchedulers, restoreSchedules } from '@sigflow/batch-jobs';
import type { OpsRecord } from '@sigflow/events';
import { markDirtyCommand } from '@sigflow/store/batch';
import type { Queue } from 'bullmq';
import type { BatchContext } from './batch-context.js';
import { sendCommands } from './redis-commands.js';

/**
 * The batch layer's part of recovering a Redis that lost its data (an `OpsLog` hook): its
 * schedulers back (the configured ones, and those ops set, from the ops topic), and every
 * archived hour marked dirty, so that the scheduled recompute publishes them again: the same
 * archive gives the same views, and the batch watermark moves up as they are switched in. The
 * views' keys spread over every slot of a Redis Cluster: a loss of part of the store may have
 * taken some keys of hours still listed as served, which serve what is left of them until their
 * new version is switched in. Returns the hours marked.
 */
export async function recoverBatchStore(ctx: BatchContext, queue: Queue, records: readonly OpsRecord[]): Promise<number> {
  await installSchedulers(queue, ctx.config);
  await restoreSchedules(queue, records);
  const hours = await ctx.archive.hours('events');
  const mark = markDirtyCommand(ctx.keys, hours, Date.now());
  if (mark) await sendCommands(ctx.redis, [mark]);
  return hours.length;
}
