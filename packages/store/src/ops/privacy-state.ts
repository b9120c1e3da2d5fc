import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';
import type { RedisCommand } from '../views/view-commands.js';
import { readSegmentIds } from '../segments-alerts/segment-definitions.js';
import { slotSafePipeline } from '../cluster-commands.js';

/**
 * Records a tombstone (a salted hash, never the id) at `at` unless one exists, and removes
 * those older than the retention in the same step: the set stays bounded by the deletions of
 * one retention period.
 */
export async function recordTombstone(redis: RedisClient, keys: StoreKeys, hash: string, at: number, retentionMs: number): Promise<void> {
  await redis.multi().zadd(keys.tombstones(), 'NX', at, hash).zremrangebyscore(keys.tombstones(), '-inf', `(${at - retentionMs}`).exec();
}

/** Removes the tombstones recorded before `before` (ms); returns how many. */
export async function pruneTombstones(redis: RedisClient, keys: StoreKeys, before: number): Promise<number> {
  return redis.zremrangebyscore(keys.tombstones(), '-inf', `(${before}`);
}

/** Whether `hash` is a tombstone. */
export async function hasTombstone(redis: RedisClient, keys: StoreKeys, hash: string): Promise<boolean> {
  return (await redis.zscore(keys.tombstones(), hash)) !== null;
}

/**
 * Tombstones recorded at or after `since` (ms), with when: a reader that remembers the newest
 * time it saw asks again from there (inclusive, so two recorded in the same ms are not missed).
 */
export async function readTombstones(redis: RedisClient, keys: StoreKeys, since: number): Promise<{ hash: string; at: number }[]> {
  const flat = await redis.zrangebyscore(keys.tombstones(), since, '+inf', 'WITHSCORES');
  const out: { hash: string; at: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ hash: flat[i] as string, at: Number(flat[i + 1]) });
  return out;
}

/** Asks the owner of `partition` to erase the person's speed state (see `StoreKeys.speedErasures`). */
export async function requestSpeedErasure(redis: RedisClient, keys: StoreKeys, partition: number, userId: string, requestId: string): Promise<void> {
  await redis.hset(keys.speedErasures(partition), userId, requestId);
}

/** Whether the erasure asked for is still waiting for the partition's owner. */
export async function speedErasurePending(redis: RedisClient, keys: StoreKeys, partition: number, userId: string): Promise<boolean> {
  return (await redis.hexists(keys.speedErasures(partition), userId)) === 1;
}

/** The erasures waiting per partition (userId -> request id), one round trip. */
export async function readSpeedErasures(redis: RedisClient, keys: StoreKeys, partitions: readonly number[]): Promise<Map<number, string[]>> {
  const pipe = slotSafePipeline(redis);
  for (const p of partitions) pipe.hkeys(keys.speedErasures(p));
  const replies = (await pipe.exec()) ?? [];
  const out = new Map<number, string[]>();
  replies.forEach(([err, users], i) => {
    if (err) throw err;
    if ((users as string[]).length > 0) out.set(partitions[i] as number, users as string[]);
  });
  return out;
}

/**
 * The commands that erase people's speed state in one partition: signal log, state snapshot,
 * place in the recent-users list and among the members of `segmentIds`, and the erasure request
 * itself. The speed layer puts them in
 * the partition's fenced commit, so no commit built before can write the state back after them.
 */
export function speedErasureCommands(keys: StoreKeys, partition: number, userIds: readonly string[], segmentIds: readonly string[] = []): RedisCommand[] {
  const commands: RedisCommand[] = [];
  for (const u of userIds) {
    commands.push(['DEL', keys.signals(partition, u)], ['DEL', keys.userSnapshot(partition, u)]);
  }
  // Their place among the members of every segment (the segments' ids as defined now).
  for (const id of segmentIds) {
    if (userIds.length === 0) break;
    commands.push(['ZREM', keys.speedSegmentMembers(partition, id), ...userIds], ['HDEL', keys.speedSegmentMemberInfo(partition, id), ...userIds]);
  }
  if (userIds.length > 0) {
    commands.push(['ZREM', keys.recentUsers(partition), ...userIds], ['HDEL', keys.speedErasures(partition), ...userIds]);
  }
  return commands;
}

/**
 * Erases a person's speed state without the partition's fence: for a deletion whose partition
 * no speed instance owns (nothing can write it back). Same commands, one MULTI.
 */
export async function eraseSpeedStateDirectly(redis: RedisClient, keys: StoreKeys, partition: number, userId: string): Promise<void> {
  const segmentIds = await readSegmentIds(redis, keys);
  const multi = redis.multi();
  for (const [name, ...args] of speedErasureCommands(keys, partition, [userId], segmentIds)) multi.call(name, ...args);
  await multi.exec();
}

/** Removes a person from the batch layer's members of every segment (a deletion). */
export async function eraseBatchSegmentMemberships(redis: RedisClient, keys: StoreKeys, userId: string): Promise<void> {
  const pipe = slotSafePipeline(redis);
  for (const id of await readSegmentIds(redis, keys)) pipe.zrem(keys.batchSegmentMembers(id), userId).hdel(keys.batchSegmentMemberInfo(id), userId);
  for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
}
