import { setTimeout as sleep } from 'node:timers/promises';
import { userPartition } from '@sigflow/events';
import { eraseBatchSegmentMemberships, eraseSpeedStateDirectly, requestSpeedErasure, speedErasurePending } from '@sigflow/store/ops';
import type { BatchContext } from './batch-context.js';

/** Who erased a person's speed state. */
export type SpeedErasure = 'owner' | 'direct';

/**
 * Erases a person's speed state (signals, snapshot, place among the recent users and segment
 * members; the batch layer's segment members too). The speed
 * instance owning the person's partition is asked to do it inside its fenced commit, so no
 * commit built before can write the state back; when none answers within
 * `privacy.speedWaitMs` (longer than the speed layer's session timeout: no instance owns the
 * partition, or its owner was replaced), nothing can write it back, and it is erased here.
 */
export async function eraseSpeedState(ctx: BatchContext, userId: string, requestId: string, pollMs = 100): Promise<SpeedErasure> {
  const partition = userPartition(userId, ctx.config.kafka.eventPartitions);
  await eraseBatchSegmentMemberships(ctx.redis, ctx.keys, userId);
  await requestSpeedErasure(ctx.redis, ctx.keys, partition, userId, requestId);
  const deadline = Date.now() + ctx.config.privacy.speedWaitMs;
  while (Date.now() < deadline) {
    if (!(await speedErasurePending(ctx.redis, ctx.keys, partition, userId))) return 'owner';
    await sleep(pollMs);
  }
  await eraseSpeedStateDirectly(ctx.redis, ctx.keys, partition, userId);
  return 'direct';
}
