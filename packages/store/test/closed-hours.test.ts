import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createRedis, deleteKeysWithPrefix, StoreKeys } from '../src/index.js';
import { ClosedHourCache, forEachField, metricsViewKeys, readWindowedView, type HashReply, type WindowedHashes } from '../src/views/index.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** 2026-11-20 10:00 UTC. */
const H0 = Date.UTC(2026, 10, 20, 10);
const LATENESS = 60_000;

describe('ClosedHourCache', () => {
  it('keeps at most maxEntries replies, the least recently used going first', () => {
    const cache = new ClosedHourCache(2, 60_000, () => 0);
    cache.set('a', ['f', '1']);
    cache.set('b', ['f', '2']);
    expect(cache.get('a')).toEqual(['f', '1']); // a is now the most recently used
    cache.set('c', ['f', '3']);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([['f', '1'], undefined, ['f', '3']]);
    expect(cache.size).toBe(2);
  });

  it('forgets a reply older than maxAgeMs', () => {
    let now = 0;
    const cache = new ClosedHourCache(10, 1_000, () => now);
    cache.set('a', ['f', '1']);
    now = 1_000;
    expect(cache.get('a')).toEqual(['f', '1']);
    now = 1_001;
    expect(cache.get('a')).toBeUndefined();
  });

  it('keeps nothing with maxEntries 0', () => {
    const cache = new ClosedHourCache(0, 1_000);
    cache.set('a', ['f', '1']);
    expect(cache.get('a')).toBeUndefined();
  });
});

/** impressions per hour of the view, summed over its fields. */
function impressionsByHour(view: WindowedHashes): Map<number, number> {
  const out = new Map<number, number>();
  for (const h of view.hours) {
    let n = 0;
    for (const hash of [h.speed, h.batch]) if (hash) forEachField(hash as HashReply, (f, v) => (n += f.endsWith('\timpressions') ? Number(v) : 0));
    out.set(h.hourStart, n);
  }
  return out;
}

/** The merge rule's answer for 1-minute windows, by hand: batch when the hour's first window ended by the watermark, speed when its last did not. */
const layersOf = (hour: number, watermark: number | null) => ({
  speed: watermark === null || hour + HOUR > watermark,
  batch: watermark !== null && hour + MINUTE <= watermark,
});

describe('readWindowedView with a closed-hour cache (real Redis)', () => {
  const prefix = `t-closed-${randomUUID().slice(0, 8)}`;
  const redis = createRedis(loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: prefix }).redis);
  const keys = new StoreKeys(prefix);
  const view = metricsViewKeys(keys, 'c1', 2);
  const range = { from: H0, to: H0 + 3 * HOUR };
  afterAll(async () => {
    await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
  });

  /** `n` impressions in the first window of `hour` in each of the 2 partitions. */
  async function writeSpeed(hour: number, n: number): Promise<void> {
    for (const key of view.speed(hour)) await redis.hset(key, `${hour}\timpressions`, n);
  }

  it('reads an hour every partition has closed once, and hours still open every time', async () => {
    for (const h of [H0, H0 + HOUR, H0 + 2 * HOUR]) await writeSpeed(h, 5);
    // Partition 0 is 2 hours past H0's end, partition 1 just past the second hour's end plus the lateness:
    // the first hour is closed in both, the second only in partition 0, the third in none.
    await redis.set(keys.speedWatermark(0), String(H0 + 3 * HOUR));
    await redis.set(keys.speedWatermark(1), String(H0 + 2 * HOUR + LATENESS - MINUTE));
    const closed = { cache: new ClosedHourCache(100, 600_000), allowedLatenessMs: LATENESS, partitions: 2 };
    const first = await readWindowedView(redis, keys, view, range, layersOf, closed);
    expect([...impressionsByHour(first).values()]).toEqual([10, 10, 10]);
    expect(closed.cache.size).toBe(1);

    // Every hour gains an impression in Redis: a closed hour never would, so the cached one shows
    // that it was not read again; the open ones are.
    for (const h of [H0, H0 + HOUR, H0 + 2 * HOUR]) await writeSpeed(h, 6);
    const second = await readWindowedView(redis, keys, view, range, layersOf, closed);
    expect([...impressionsByHour(second).values()]).toEqual([10, 12, 12]);
    // Without the cache, every hour as Redis has it.
    expect([...impressionsByHour(await readWindowedView(redis, keys, view, range, layersOf)).values()]).toEqual([12, 12, 12]);
  });

  it('keeps no speed hour while a partition has no watermark', async () => {
    await redis.del(keys.speedWatermark(1));
    const closed = { cache: new ClosedHourCache(100, 600_000), allowedLatenessMs: LATENESS, partitions: 2 };
    await readWindowedView(redis, keys, view, range, layersOf, closed);
    expect(closed.cache.size).toBe(0);
  });

  it("keeps a batch version's hash by its key (a version is written once)", async () => {
    await redis.set(keys.batchWatermark(), String(H0 + HOUR));
    await redis.hset(keys.batchHours(), String(H0), JSON.stringify({ version: 'v1', computedAt: 1, asOf: 1, rows: 1, duplicates: 0, shapleyVersion: null, markovVersion: null, computedBy: 'test' }));
    await redis.hset(view.batch(H0, 'v1'), `${H0}\timpressions`, 7);
    const closed = { cache: new ClosedHourCache(100, 600_000), allowedLatenessMs: LATENESS, partitions: 2 };
    expect(impressionsByHour(await readWindowedView(redis, keys, view, range, layersOf, closed)).get(H0)).toBe(7);
    expect(closed.cache.get(view.batch(H0, 'v1'))).toEqual([`${H0}\timpressions`, '7']);
  });
});
