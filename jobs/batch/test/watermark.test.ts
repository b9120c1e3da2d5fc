import { type RedisClient, createRedis, StoreKeys } from '@sigflow/store';
import { raiseArchiveWatermarks, readBatchHourEntries, readBatchWatermark, switchBatchHours } from '@sigflow/store/batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor, type ReceivedEvent } from '@sigflow/events';
import { createBatchContext, DuckDBSession, recomputeDirtyHours, recomputeHours, type BatchContext } from '../src/index.js';
import { HOUR, MINUTE, T0, impression, testConfig, writeArchive, endTestRun } from './helpers.js';

describe('batch watermark and the versioned switch', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let ctx: BatchContext;
  let duckdb: DuckDBSession;
  let topic: string;
  const watermark = () => readBatchWatermark(redis, keys);
  const recompute = (from: number, to: number) => recomputeHours({ context: ctx, from, to, duckdb });

  beforeAll(async () => {
    ({ config, dir } = testConfig('watermark', { SIGFLOW_BATCH_VIEW_PARQUET: 'false' }));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    topic = topicsFor(config.kafka.topicPrefix).events;
    ctx = createBatchContext(config, redis);
    duckdb = await DuckDBSession.open({ threads: 1 });
    // Events in hours T0 .. T0+3h (hour T0+4h stays empty).
    const events: ReceivedEvent[] = [0, 1, 2, 3].map((h) => impression({ id: `e${h}`, user: `u${h}`, ts: T0 + h * HOUR + 10 * MINUTE }));
    await writeArchive(config.archiver.dir, events.map((event, i) => ({ event, partition: 0, offset: String(i) })));
    // Both partitions have archived up to T0+3h+2min: hours ending by T0+3h+55s are sealed.
    await raiseArchiveWatermarks(redis, keys, topic, new Map([[0, T0 + 3 * HOUR + 2 * MINUTE], [1, T0 + 3 * HOUR + 2 * MINUTE]]));
  });

  afterAll(() => endTestRun({ config, dir, redis, duckdb }));

  it('ends at the first sealed hour that has archive files but no batch version', async () => {
    await recompute(T0, T0 + HOUR);
    expect(await watermark()).toBe(T0 + HOUR);
    await recompute(T0 + HOUR, T0 + 3 * HOUR);
    // T0+3h has files, is computed next, but is not sealed yet.
    expect(await watermark()).toBe(T0 + 3 * HOUR);
    await recompute(T0 + 3 * HOUR, T0 + 4 * HOUR);
    expect(await watermark()).toBe(T0 + 3 * HOUR);
    // Sealing advances (the slowest partition matters) and the scheduled job moves the watermark.
    await raiseArchiveWatermarks(redis, keys, topic, new Map([[0, T0 + 6 * HOUR]]));
    await recomputeDirtyHours({ context: ctx, duckdb });
    expect(await watermark()).toBe(T0 + 3 * HOUR);
    await raiseArchiveWatermarks(redis, keys, topic, new Map([[1, T0 + 6 * HOUR]]));
    await recomputeDirtyHours({ context: ctx, duckdb });
    // T0+4h and T0+5h are empty and sealed; T0+6h..: not sealed.
    expect(await watermark()).toBe(T0 + 5 * HOUR);
  });

  it('is held back by a dirty hour until the scheduled recompute clears it', async () => {
    await redis.zadd(keys.dirtyHours(), Date.now(), String(T0 + HOUR));
    await recompute(T0 + 2 * HOUR, T0 + 3 * HOUR);
    expect(await watermark()).toBe(T0 + HOUR);
    const result = await recomputeDirtyHours({ context: ctx, duckdb });
    expect(result.hours.map((h) => h.hourStart)).toEqual([T0 + HOUR]);
    expect(await redis.zcard(keys.dirtyHours())).toBe(0);
    expect(await watermark()).toBe(T0 + 5 * HOUR);
  });

  it('a file landing while an hour is computed keeps it dirty; an older computation never replaces a newer one', async () => {
    const asOf = Date.now();
    await redis.zadd(keys.dirtyHours(), asOf + 60_000, String(T0));
    const [h] = (await recomputeHours({ context: ctx, from: T0, to: T0 + HOUR, duckdb, now: () => asOf })).hours;
    expect(h?.replaced).toBe(true);
    expect(await redis.zscore(keys.dirtyHours(), String(T0))).toBe(String(asOf + 60_000));
    expect(await watermark()).toBe(T0);

    const current = (await readBatchHourEntries(redis, keys, [T0])).get(T0)!;
    const [stale] = await switchBatchHours(redis, keys, asOf - 1_000, null, [
      { hourStart: T0, entry: { ...current, version: 'stale', asOf: asOf - 1_000 } },
    ]);
    expect(stale).toMatchObject({ replaced: false });
    expect((await readBatchHourEntries(redis, keys, [T0])).get(T0)?.version).toBe(current.version);
  });
});
