import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';

/** The version of the key layout this code reads and writes. */
export const storeLayoutVersion = 1;

/** What the store's marker says (`StoreKeys.storeMarker`). */
export interface StoreMarker {
  readonly id: string;
  readonly layout: number;
  readonly at: number;
}

/** The marker, or null when the store has none (new, or lost since). */
export async function readStoreMarker(redis: RedisClient, keys: StoreKeys): Promise<StoreMarker | null> {
  const v = await redis.hgetall(keys.storeMarker());
  if (typeof v['id'] !== 'string') return null;
  return { id: v['id'], layout: Number(v['layout'] ?? 0), at: Number(v['at'] ?? 0) };
}

/** Writes a marker unless one exists; returns the marker the store has now. */
export async function markStore(redis: RedisClient, keys: StoreKeys, now: number): Promise<StoreMarker> {
  const id = randomUUID();
  await redis.hsetnx(keys.storeMarker(), 'id', id);
  await redis.hsetnx(keys.storeMarker(), 'layout', String(storeLayoutVersion));
  await redis.hsetnx(keys.storeMarker(), 'at', String(now));
  return (await readStoreMarker(redis, keys)) ?? { id, layout: storeLayoutVersion, at: now };
}

/** Takes the restore lease for `ms` (one restorer at a time); false when another holds it. */
export async function holdRestoreLease(redis: RedisClient, keys: StoreKeys, holder: string, ms: number): Promise<boolean> {
  return (await redis.set(keys.storeRestoring(), holder, 'PX', ms, 'NX')) === 'OK';
}

/** Gives the restore lease back (only its holder's). */
export async function releaseRestoreLease(redis: RedisClient, keys: StoreKeys, holder: string): Promise<void> {
  if ((await redis.get(keys.storeRestoring())) === holder) await redis.del(keys.storeRestoring());
}
