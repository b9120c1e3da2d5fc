import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { type RedisClient, StoreKeys } from '@sigflow/store';
import { recordTombstone, tombstoneRecord } from '@sigflow/store/ops';
import type { OpsRecord } from '@sigflow/events';
import type { SigflowConfig } from '@sigflow/config';
import { tombstoneHash } from '@sigflow/privacy';
import { jobDataOf, parseJobRequest } from './job-kinds.js';

/** The form of a deletion request's id (its BullMQ job id). */
export const deletionRequestPattern = /^del-[0-9a-f-]{36}$/;

/**
 * Asks for a person's deletion, the same from every surface (API, CLI): checks the id as the
 * worker will, records the tombstone at once (from then on the collector refuses the person's
 * events, the speed layer and the archiver drop them) in Redis and in the ops topic (`ops`: it
 * outlives a Redis that loses its data), then enqueues the `delete-user` job under a request id
 * `del-<uuid>`, which it returns. Throws `InvalidJobDataError` for an id the event contract would
 * refuse (nothing recorded then).
 */
export async function requestDeletion(
  queue: Queue,
  redis: RedisClient,
  config: SigflowConfig,
  ops: { record(records: readonly OpsRecord[]): Promise<void> },
  userId: string,
  requestedBy: string,
  now = Date.now(),
): Promise<string> {
  const data = jobDataOf(parseJobRequest('delete-user', { userId, requestedBy }));
  const hash = tombstoneHash(config.privacy.salt, userId);
  await recordTombstone(redis, new StoreKeys(config.redis.keyPrefix), hash, now, config.limits.retentionMs);
  await ops.record([tombstoneRecord(hash, now)]);
  const requestId = `del-${randomUUID()}`;
  await queue.add('delete-user', data, { jobId: requestId });
  return requestId;
}
