// Retention enforced: a small archive of six hours is aged past the retention for its first two.
// The retention job must remove exactly those hours (archive files, analysts' Parquet views,
// serving batch versions and their keys, dirty marks) and old tombstones, and leave the other
// four hours served exactly as before.
import { hourLayers } from '@sigflow/serving';
import fs from 'node:fs';
import path from 'node:path';
import { type RedisClient, type StoreKeys, createRedis } from '@sigflow/store';
import { batchVersionKeysKey, markDirtyCommand, raiseArchiveWatermarks, readBatchHourEntries } from '@sigflow/store/batch';
import { readTombstones, recordTombstone } from '@sigflow/store/ops';
import { metricsViewKeys, attributionViewKeys, heatmapViewKeys, readWindowedView, forEachField, type HashReply, type WindowedViewKeys } from '@sigflow/store/views';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listArchiveHours, verdictFolder, type ArchivedEvent } from '@sigflow/archive';
import { createBatchContext, enforceRetention, recomputeHours, viewFolder, type BatchContext } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, click, conversion, elementClick, impression, testConfig, writeArchive, endTestRun } from './helpers.js';

const HOURS = [0, 1, 2, 3, 4, 5].map((i) => T0 + i * HOUR);
/** The job runs at 05:30 after T0 with a retention of 3.5 h: hours starting before T0 + 2 h are expired. */
const NOW = T0 + 5 * HOUR + 30 * MINUTE;
const RETENTION_MS = 3.5 * HOUR;

/** Every hour: three users see ads of c1/c2, click, convert and click on a page. */
function archive(): ArchivedEvent[] {
  const out: ArchivedEvent[] = [];
  let offset = 0;
  for (const h of HOURS) {
    for (const [u, user] of ['ann', 'bob', 'cid'].entries()) {
      const partition = u % 2;
      const base = (id: string, ts: number) => ({ id: `${id}-${h}-${user}`, ts, user, ip: `10.0.0.${u}` });
      const ad = { campaign: u === 2 ? 'c2' : 'c1', ad: `a${u}`, channel: u === 1 ? 'display' : 'search' };
      const t = h + (10 + u) * MINUTE;
      const events = [
        impression({ ...base('i', t), ...ad }),
        click({ ...base('c', t + 20 * SECOND), ...ad }),
        conversion({ ...base('v', t + 5 * MINUTE), value: 10 + u }),
        elementClick({ ...base('e', t + 6 * MINUTE), page: 'home', element: `b${u}` }),
      ];
      for (const event of events) out.push({ event, partition, offset: String(offset++) });
    }
  }
  return out;
}

/** The batch hashes served for [from, to) of every view the archive feeds, fields sorted. */
async function served(redis: RedisClient, keys: StoreKeys, from: number, to: number) {
  const views: [string, WindowedViewKeys][] = [
    ['metrics:c1', metricsViewKeys(keys, 'c1', 2)],
    ['metrics:c2', metricsViewKeys(keys, 'c2', 2)],
    ['attribution:linear', attributionViewKeys(keys, 'linear', 2)],
    ['attribution:last_touch', attributionViewKeys(keys, 'last_touch', 2)],
    ['heatmap:home', heatmapViewKeys(keys, 'home', 2)],
  ];
  const out: Record<string, (string[] | null)[]> = {};
  for (const [name, view] of views) {
    const read = await readWindowedView(redis, keys, view, { from, to }, hourLayers(60_000));
    out[name] = read.hours.map((h) => (h.batch === null ? null : pairs(h.batch)));
  }
  return out;
}

const pairs = (hash: HashReply) => {
  const list: string[] = [];
  forEachField(hash, (f, v) => list.push(`${f}=${v}`));
  return list.sort();
};

describe('retention job', () => {
  const { config, dir } = testConfig('retention', { SIGFLOW_RETENTION_MS: String(RETENTION_MS) });
  let redis: RedisClient;
  let ctx: BatchContext;

  beforeAll(async () => {
    redis = createRedis(config.redis);
    ctx = createBatchContext(config, redis);
    await writeArchive(ctx.root, archive());
    // Every partition archived past the last hour: all six hours are sealed and servable.
    await raiseArchiveWatermarks(redis, ctx.keys, ctx.topic, new Map([[0, T0 + 7 * HOUR], [1, T0 + 7 * HOUR]]));
    await recomputeHours({ context: ctx, from: HOURS[0] as number, to: T0 + 6 * HOUR });
  });

  afterAll(() => endTestRun({ config, dir, redis }));

  it('removes exactly the expired hours and serves the rest unchanged', async () => {
    const [h0, h1, h2] = HOURS as [number, number, number];
    const before = await served(redis, ctx.keys, h2, T0 + 6 * HOUR);
    const expiredBefore = await served(redis, ctx.keys, h0, h2);
    // The fixture really serves batch views in every hour, expired or not.
    for (const hours of [...Object.values(before), ...Object.values(expiredBefore)]) for (const h of hours) expect(h?.length).toBeGreaterThan(0);
    const entries = await readBatchHourEntries(redis, ctx.keys, HOURS);
    const expiredKeySets = [h0, h1].map((h) => batchVersionKeysKey(ctx.keys, h, entries.get(h)?.version ?? ''));
    const expiredKeys = (await Promise.all(expiredKeySets.map((k) => redis.smembers(k)))).flat();
    expect(expiredKeys.length).toBeGreaterThan(0);
    // An hour marked dirty while expired, and tombstones on either side of the retention.
    await redis.call(...(markDirtyCommand(ctx.keys, [h1, h2], NOW) as [string, ...(string | number)[]]));
    await recordTombstone(redis, ctx.keys, 'old-hash', NOW - RETENTION_MS - 1, 10 * RETENTION_MS);
    await recordTombstone(redis, ctx.keys, 'new-hash', NOW - RETENTION_MS + 1, 10 * RETENTION_MS);

    const result = await enforceRetention({ context: ctx, now: NOW });

    expect(result.cutoff).toBe(h2);
    expect(result.hours).toEqual([h0, h1]);
    expect(result.archiveFiles).toBe(4);
    // Two hours of the analysts' Parquet views: window_metrics, channel_spend, attribution, heatmap, page_activity, quality.
    expect(result.viewFiles).toBe(2 * 6);
    // Each expired hour's touchpoint verdicts (its serving version's file) go with it.
    expect(result.verdictFiles).toBe(2);
    for (const h of HOURS) expect(fs.existsSync(verdictFolder(ctx.root, h))).toBe(h >= h2);
    expect(result.batchHours).toBe(2);
    expect(await listArchiveHours(ctx.root)).toEqual(HOURS.slice(2));
    for (const view of ['window_metrics', 'channel_spend', 'attribution', 'heatmap', 'page_activity', 'quality']) {
      for (const h of HOURS) expect(fs.existsSync(path.join(viewFolder(ctx.root, view, h), 'data.parquet'))).toBe(h >= h2);
    }
    expect([...(await readBatchHourEntries(redis, ctx.keys, HOURS)).keys()]).toEqual(HOURS.slice(2));
    expect(await redis.exists(...expiredKeys, ...expiredKeySets)).toBe(0);
    expect(await redis.zrange(ctx.keys.dirtyHours(), 0, -1)).toEqual([String(h2)]);
    expect((await readTombstones(redis, ctx.keys, 0)).map((t) => t.hash)).toEqual(['new-hash']);
    expect(await served(redis, ctx.keys, h2, T0 + 6 * HOUR)).toEqual(before);
    const expiredAfter = await served(redis, ctx.keys, h0, h2);
    for (const hours of Object.values(expiredAfter)) expect(hours).toEqual([null, null]);

    // Idempotent: a second run finds nothing to remove.
    const again = await enforceRetention({ context: ctx, now: NOW });
    expect([again.hours, again.archiveFiles, again.viewFiles, again.verdictFiles, again.batchHours]).toEqual([[], 0, 0, 0, 0]);
  });
});
