import type { SegmentMembership } from '@sigflow/core';
import { hourStart } from '@sigflow/core';
import { field, FIELD_SEPARATOR, type StoreKeys } from '../store-keys.js';
import type { RedisCommand } from '../views/view-commands.js';

const DAY_MS = 86_400_000;

/** A user's segment memberships after a batch of its events, and what the batch changed. */
export interface SegmentMemberChange {
  /** The memberships held after the batch. */
  members: readonly SegmentMembership[];
  /** Until when they last without a further event (event time). */
  expiresAt: number;
  /** Segment ids entered, and left, by the batch's events (null: none). */
  entered: Set<string> | null;
  left: Set<string> | null;
}

/** What one partition batch changed in the segment views. */
export interface SegmentViewChanges {
  /** `${segmentId}\t${windowStart}\t${in|out}` -> entries or exits to add (exits include lapses ahead). */
  readonly sizes: ReadonlyMap<string, number>;
  /** By user id. */
  readonly members: ReadonlyMap<string, SegmentMemberChange>;
}

/** The key of a size delta (see {@link SegmentViewChanges.sizes}). */
export function segmentSizeKey(segmentId: string, windowStart: number, kind: 'in' | 'out'): string {
  return field(segmentId, windowStart, kind);
}

/** How long the segment views of the speed layer live. */
export interface SegmentViewTtls {
  /** Size hashes (ms): the speed views' TTL plus the membership TTL (exits are written that far ahead). */
  readonly sizesMs: number;
  /** Day totals, the base of every size (ms): the retention. */
  readonly daysMs: number;
  /** Member sets (ms): the users' state TTL. */
  readonly membersMs: number;
}

function sizeCommands(keys: StoreKeys, partition: number, sizes: SegmentViewChanges['sizes'], ttl: SegmentViewTtls): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const touched = new Map<string, number>();
  const days = new Map<string, number>();
  for (const [key, delta] of sizes) {
    if (delta === 0) continue;
    const [id, ws, kind] = key.split(FIELD_SEPARATOR) as [string, string, 'in' | 'out'];
    const windowStart = Number(ws);
    const sizesKey = keys.speedSegmentSizes(partition, id, hourStart(windowStart));
    commands.push(['HINCRBY', sizesKey, field(windowStart, kind), delta]);
    touched.set(sizesKey, ttl.sizesMs);
    const day = field(id, windowStart - (windowStart % DAY_MS));
    days.set(day, (days.get(day) ?? 0) + (kind === 'in' ? delta : -delta));
  }
  for (const [day, net] of days) {
    const [id, dayStart] = day.split(FIELD_SEPARATOR) as [string, string];
    const daysKey = keys.speedSegmentDays(partition, id);
    if (net !== 0) commands.push(['HINCRBY', daysKey, dayStart, net]);
    touched.set(daysKey, ttl.daysMs);
  }
  for (const [key, ms] of touched) commands.push(['PEXPIRE', key, ms]);
  return commands;
}

function memberCommands(keys: StoreKeys, partition: number, members: SegmentViewChanges['members'], ttl: SegmentViewTtls): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const touched = new Set<string>();
  for (const [userId, change] of members) {
    for (const id of change.left ?? []) {
      if (change.members.some((m) => m.id === id)) continue;
      commands.push(['ZREM', keys.speedSegmentMembers(partition, id), userId], ['HDEL', keys.speedSegmentMemberInfo(partition, id), userId]);
    }
    for (const m of change.members) {
      const info = keys.speedSegmentMemberInfo(partition, m.id);
      commands.push(['HSET', info, userId, field(m.entered, change.expiresAt)]);
      touched.add(info);
      if (!change.entered?.has(m.id)) continue;
      const set = keys.speedSegmentMembers(partition, m.id);
      commands.push(['ZADD', set, 0, userId]);
      touched.add(set);
    }
  }
  for (const key of touched) commands.push(['PEXPIRE', key, ttl.membersMs]);
  return commands;
}

/**
 * The commands of a partition's commit for its segment views: entries and exits per window
 * (HINCRBY) and each day's net change, the members added and removed (ZADD / ZREM by user id)
 * and every member's entry time and expiry (HSET). Keys carry the partition's hash tag.
 */
export function segmentViewCommands(keys: StoreKeys, partition: number, changes: SegmentViewChanges, ttl: SegmentViewTtls): RedisCommand[] {
  if (changes.sizes.size === 0 && changes.members.size === 0) return [];
  return [...sizeCommands(keys, partition, changes.sizes, ttl), ...memberCommands(keys, partition, changes.members, ttl)];
}
