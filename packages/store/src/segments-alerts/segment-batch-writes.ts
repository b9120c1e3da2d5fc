import type { RedisClient } from '../redis-client.js';
import type { SegmentBatchHour, SegmentBatchMembersState, SegmentMember } from './segment-readers.js';
import { batchSegmentField } from './segment-readers.js';
import { field, type StoreKeys } from '../store-keys.js';

/** One recomputed segment: sizes per window of whole hours, and its members as of the range end. */
export interface SegmentBatchResult {
  readonly segmentId: string;
  /** hourStart -> the hour's windows: [windowStart, size, entries, exits]. */
  readonly hours: ReadonlyMap<number, readonly (readonly [number, number, number, number])[]>;
  readonly hourEntry: SegmentBatchHour;
  readonly members: readonly SegmentMember[];
  readonly membersState: SegmentBatchMembersState;
  /** TTL of everything written (ms): the batch views' TTL. */
  readonly ttlMs: number;
}

const CHUNK = 1_000;

/**
 * Writes one segment's batch recompute in ONE transaction (its keys share a hash tag): each hour's
 * size hash replaced whole and recorded as recomputed, the members replaced by those as of the
 * range end (built under a staging key, then renamed over the live one), and what they are as of.
 */
export async function writeSegmentBatch(redis: RedisClient, keys: StoreKeys, r: SegmentBatchResult): Promise<void> {
  const id = r.segmentId;
  const tx = redis.multi();
  const hoursKey = keys.batchSegmentHours(id);
  for (const [hour, windows] of r.hours) {
    const key = keys.batchSegmentSizes(id, hour);
    tx.del(key);
    const flat: (string | number)[] = [];
    for (const [ws, size, entered, left] of windows) flat.push(batchSegmentField(ws, 'size'), size, batchSegmentField(ws, 'in'), entered, batchSegmentField(ws, 'out'), left);
    if (flat.length > 0) tx.hset(key, ...flat).pexpire(key, r.ttlMs);
    tx.hset(hoursKey, String(hour), JSON.stringify(r.hourEntry));
  }
  tx.pexpire(hoursKey, r.ttlMs);
  const staging = keys.batchSegmentMembers(id, true);
  const stagingInfo = keys.batchSegmentMemberInfo(id, true);
  tx.del(staging, stagingInfo);
  for (let i = 0; i < r.members.length; i += CHUNK) {
    const page = r.members.slice(i, i + CHUNK);
    tx.zadd(staging, ...page.flatMap((m) => [0, m.userId]));
    tx.hset(stagingInfo, ...page.flatMap((m) => [m.userId, field(m.entered, m.expiresAt)]));
  }
  if (r.members.length > 0) {
    tx.rename(staging, keys.batchSegmentMembers(id)).rename(stagingInfo, keys.batchSegmentMemberInfo(id));
    tx.pexpire(keys.batchSegmentMembers(id), r.ttlMs).pexpire(keys.batchSegmentMemberInfo(id), r.ttlMs);
  } else {
    tx.del(keys.batchSegmentMembers(id), keys.batchSegmentMemberInfo(id));
  }
  tx.set(keys.batchSegmentMembersState(id), JSON.stringify(r.membersState), 'PX', r.ttlMs);
  for (const [err] of (await tx.exec()) ?? []) if (err) throw err;
}
