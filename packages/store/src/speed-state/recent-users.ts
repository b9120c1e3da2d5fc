import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';
import { slotSafePipeline } from '../cluster-commands.js';

/** A user the speed layer committed signals for lately, and when (ms, wall clock of that commit). */
export interface RecentUser {
  readonly userId: string;
  readonly seenAt: number;
}

/**
 * The `limit` most recently seen users over the speed partitions [0, partitions), newest first
 * (ties by user id): one ZREVRANGE per partition in one round trip.
 */
export async function readRecentUsers(redis: RedisClient, keys: StoreKeys, partitions: number, limit: number): Promise<RecentUser[]> {
  const pipe = slotSafePipeline(redis);
  for (let p = 0; p < partitions; p++) pipe.zrevrange(keys.recentUsers(p), 0, limit - 1, 'WITHSCORES');
  const replies = (await pipe.exec()) ?? [];
  const users: RecentUser[] = [];
  for (const [err, reply] of replies) {
    if (err) throw err;
    const flat = reply as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) users.push({ userId: flat[i] as string, seenAt: Number(flat[i + 1]) });
  }
  return users.sort((a, b) => b.seenAt - a.seenAt || (a.userId < b.userId ? -1 : 1)).slice(0, limit);
}
