import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { holdLease, releaseLease } from '../lease.js';
import { StoreLayoutError } from '../errors.js';
import type { StoreKeys } from '../store-keys.js';

/**
 * The version of the key layout this code reads and writes. 2: the marker has a copy in each
 * slot of ops decisions (`StoreKeys.storeSlotMarkers`); a store marked at 1 has none yet.
 */
export const storeLayoutVersion = 2;

/** What the store's marker says (`StoreKeys.storeMarker`). */
export interface StoreMarker {
  readonly id: string;
  readonly layout: number;
  readonly at: number;
}

/**
 * The marker, or null when the store has none or lost part of it (a copy gone from its slot:
 * a Redis Cluster that lost a master and its replica). A store marked at layout 1 has no
 * copies to check: whole unless its marker went (`upgradeStoreMarker` gives it the copies). A
 * store in a later layout than this release knows is refused ({@link StoreLayoutError}).
 */
export async function readStoreMarker(redis: RedisClient, keys: StoreKeys): Promise<StoreMarker | null> {
  const [v, copies] = await Promise.all([redis.hgetall(keys.storeMarker()), Promise.all(keys.storeSlotMarkers().map((k) => redis.get(k)))]);
  if (typeof v['id'] !== 'string') return null;
  const marker = { id: v['id'], layout: Number(v['layout'] ?? 0), at: Number(v['at'] ?? 0) };
  if (marker.layout > storeLayoutVersion) {
    throw new StoreLayoutError(
      `the store (${keys.storeMarker()}) is in key layout ${marker.layout}, written by a newer release; this one reads layouts up to ${storeLayoutVersion}: run the newer release (nothing was changed)`,
    );
  }
  if (marker.layout >= 2 && copies.some((c) => c !== marker.id)) return null;
  return marker;
}

/**
 * Under the restore lease: the store's whole marker, or a new one written in every slot when it
 * has none or lost part of it (a new id, so that every process sees the loss and runs its steps).
 */
export async function markStore(redis: RedisClient, keys: StoreKeys, now: number): Promise<StoreMarker> {
  const whole = await readStoreMarker(redis, keys);
  if (whole) return whole;
  const marker: StoreMarker = { id: randomUUID(), layout: storeLayoutVersion, at: now };
  await Promise.all(keys.storeSlotMarkers().map((k) => redis.set(k, marker.id)));
  await redis.hset(keys.storeMarker(), { id: marker.id, layout: String(marker.layout), at: String(now) });
  return marker;
}

/** Gives a store marked at an earlier layout the copies of its marker in every slot (not a loss). */
export async function upgradeStoreMarker(redis: RedisClient, keys: StoreKeys, marker: StoreMarker): Promise<StoreMarker> {
  if (marker.layout >= storeLayoutVersion) return marker;
  await Promise.all(keys.storeSlotMarkers().map((k) => redis.set(k, marker.id, 'NX')));
  await redis.hset(keys.storeMarker(), 'layout', String(storeLayoutVersion));
  return { ...marker, layout: storeLayoutVersion };
}

/**
 * Runs `work` under the restore lease (one restorer at a time), renewing the lease every fifth
 * of `ms` while it runs and giving it back after (in one script: a lease that ran out and was
 * taken by another meanwhile stays theirs): a holder that dies (kill -9, or a SIGTERM during its
 * start-up) frees it within `ms`. `{ held: false }` when another holds it.
 */
export async function withRestoreLease<T>(redis: RedisClient, keys: StoreKeys, holder: string, ms: number, work: () => Promise<T>): Promise<{ held: true; value: T } | { held: false }> {
  const key = keys.storeRestoring();
  if ((await redis.set(key, holder, 'PX', ms, 'NX')) !== 'OK') return { held: false };
  const renewal = setInterval(() => void holdLease(redis, key, holder, ms).catch(() => undefined), Math.max(1, Math.floor(ms / 5)));
  try {
    return { held: true, value: await work() };
  } finally {
    clearInterval(renewal);
    await releaseLease(redis, key, holder);
  }
}
