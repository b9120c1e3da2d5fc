import type { RedisClient } from '../redis-client.js';
import { holdLease, releaseLease } from '../lease.js';
import type { StoreKeys } from '../store-keys.js';
import { slotSafePipeline } from '../cluster-commands.js';

/**
 * Writes campaigns' bidding answers, serialized once by the bidding service, each with a TTL (an
 * answer nobody refreshes disappears instead of going stale). One pipelined round trip.
 */
export async function writeBiddingStates(redis: RedisClient, keys: StoreKeys, states: ReadonlyMap<string, string>, ttlMs: number): Promise<void> {
  if (states.size === 0) return;
  const pipe = slotSafePipeline(redis);
  for (const [campaignId, json] of states) pipe.set(keys.biddingState(campaignId), json, 'PX', ttlMs);
  for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
}

/** A campaign's bidding answer as stored (JSON text, served as is): ONE GET. Null when there is none. */
export function readBiddingState(redis: RedisClient, keys: StoreKeys, campaignId: string): Promise<string | null> {
  return redis.get(keys.biddingState(campaignId));
}

/** Several campaigns' bidding answers (null where none), in one pipelined round trip. */
export async function readBiddingStates(redis: RedisClient, keys: StoreKeys, campaignIds: readonly string[]): Promise<(string | null)[]> {
  if (campaignIds.length === 0) return [];
  const pipe = slotSafePipeline(redis);
  for (const id of campaignIds) pipe.get(keys.biddingState(id));
  return ((await pipe.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return value as string | null;
  });
}

/** Removes a campaign's bidding answer (its budget was removed). */
export async function deleteBiddingState(redis: RedisClient, keys: StoreKeys, campaignId: string): Promise<void> {
  await redis.del(keys.biddingState(campaignId));
}

/** What was last published to `bidding.v1` for a campaign: what changed is compared with `signature`. */
export interface PublishedMark {
  readonly signature: string;
  readonly at: number;
}

/** The last published mark of every campaign. */
export async function readPublishedMarks(redis: RedisClient, keys: StoreKeys): Promise<Map<string, PublishedMark>> {
  const marks = new Map<string, PublishedMark>();
  for (const [campaignId, json] of Object.entries(await redis.hgetall(keys.biddingPublished()))) {
    try {
      const v = JSON.parse(json) as Partial<PublishedMark>;
      if (typeof v.signature === 'string' && typeof v.at === 'number') marks.set(campaignId, { signature: v.signature, at: v.at });
    } catch {
      // unreadable: treated as never published
    }
  }
  return marks;
}

/** Records what was published (after Kafka acknowledged it). */
export async function writePublishedMarks(redis: RedisClient, keys: StoreKeys, marks: ReadonlyMap<string, PublishedMark>): Promise<void> {
  if (marks.size === 0) return;
  await redis.hset(keys.biddingPublished(), Object.fromEntries([...marks].map(([id, m]) => [id, JSON.stringify(m)])));
}

/** Removes a campaign's mark (its budget was removed: a new budget publishes afresh). */
export async function deletePublishedMark(redis: RedisClient, keys: StoreKeys, campaignId: string): Promise<void> {
  await redis.hdel(keys.biddingPublished(), campaignId);
}

/**
 * Takes or renews the bidding service's lease for `ttlMs`: true while `owner` holds it. One
 * instance computes and publishes at a time; another takes over once the lease lapses.
 */
export async function holdBiddingLease(redis: RedisClient, keys: StoreKeys, owner: string, ttlMs: number): Promise<boolean> {
  return holdLease(redis, keys.biddingLeader(), owner, ttlMs);
}

/** Gives the lease up if `owner` holds it (a graceful stop: the next instance takes over at once). */
export async function releaseBiddingLease(redis: RedisClient, keys: StoreKeys, owner: string): Promise<void> {
  await releaseLease(redis, keys.biddingLeader(), owner);
}
