import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { AttributionDelta } from '@sigflow/core';
import { field } from '@sigflow/store';
import { batchKeyspace, speedKeyspace } from '@sigflow/store/batch';
import {
  HOUR,
  MIN,
  deltas,
  minuteMetrics,
  setBatchHour,
  startTestApi,
  testConfig,
  withKey,
  writeViews,
  type TestApi,
} from './helpers.js';

// Three hours of views: speed everywhere; batch version v1 for H1 only; watermark in the middle of H1.
const H0 = Date.UTC(2026, 0, 5, 10);
const H1 = H0 + HOUR;
const H2 = H0 + 2 * HOUR;
const W = H1 + 30 * MIN;
const NOW = H0 + 3 * HOUR;

function attributionMinutes(model: AttributionDelta['model'], from: number, to: number, rows: Omit<AttributionDelta, 'windowStart' | 'model'>[]): AttributionDelta[] {
  const out: AttributionDelta[] = [];
  for (let t = from; t < to; t += MIN) for (const r of rows) out.push({ windowStart: t, model, ...r });
  return out;
}

describe('merged views over a real Redis', () => {
  let api: TestApi;
  const get = (url: string) => api.app.inject({ method: 'GET', url, headers: withKey('analyst') });

  beforeAll(async () => {
    api = await startTestApi(testConfig(), { now: () => NOW });
    const { redis, keys } = api;
    await writeViews(
      redis,
      speedKeyspace(keys, 0),
      deltas({
        windowMetrics: minuteMetrics('c1', 'a1', H0, H0 + 3 * HOUR, { impressions: 10, clicks: 1, invalidClicks: 1 }),
        attribution: attributionMinutes('last_touch', H0, H0 + 3 * HOUR, [{ campaign_id: 'c1', channel: 'search', conversions: 1, revenue: 10 }]),
        heatmap: minuteMetrics('x', 'x', H1, H2, {}).flatMap((m) => [
          { page_id: 'p1', windowStart: m.windowStart, element_id: 'el-a', clicks: 1 },
          { page_id: 'p1', windowStart: m.windowStart, element_id: 'el-b', clicks: 2 },
        ]),
      }),
    );
    await writeViews(
      redis,
      batchKeyspace(keys, 'v1'),
      deltas({
        windowMetrics: minuteMetrics('c1', 'a1', H1, H2, { impressions: 12, clicks: 2 }),
        attribution: [
          ...attributionMinutes('last_touch', H1, H2, [
            { campaign_id: 'c1', channel: 'search', conversions: 2, revenue: 20 },
            { campaign_id: 'c2', channel: 'social', conversions: 1, revenue: 0 },
          ]),
          ...attributionMinutes('markov', H1, H2, [{ campaign_id: 'c1', channel: 'search', conversions: 0.5, revenue: 5 }]),
        ],
        heatmap: minuteMetrics('x', 'x', H1, H2, {}).map((m) => ({ page_id: 'p1', windowStart: m.windowStart, element_id: 'el-a', clicks: 3 })),
      }),
    );
    // An older version of H1 that is no longer served: must never show up.
    await writeViews(redis, batchKeyspace(keys, 'v0'), deltas({ windowMetrics: minuteMetrics('c1', 'a1', H1, H2, { impressions: 99 }) }));
    await setBatchHour(redis, keys, H1, 'v1', 'shap-3');
    await redis.set(keys.batchWatermark(), String(W));
    await redis.set(keys.shapleyVersion(), 'shap-4');
    await redis.sadd(keys.campaigns(0), 'c1');
    await redis.hset(keys.speedQuality(0, H1), field('c1', 'late_impression'), 3, field('c1', 'duplicates'), 1, field('c1', 'invalid:bot'), 2, field('*', 'late_conversion'), 1);
    await redis.hset(keys.batchQuality(H1, 'v1'), field('c1', 'duplicates'), 4, field('c1', 'invalid:bot'), 2);
    await redis.hset(keys.batchChanges(H1, 'v1'), 'c1', JSON.stringify({ impressions: 120 }));
  });

  afterAll(async () => {
    await api?.close();
  });

  it('minute windows: batch up to the watermark (served version only), speed after, none for an unversioned hour', async () => {
    const res = await get(`/v1/campaigns/c1/metrics?from=${H1 - 2 * MIN}&to=${new Date(H1 + 32 * MIN).toISOString()}&granularity=minute`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ campaignId: 'c1', from: H1 - 2 * MIN, to: H1 + 32 * MIN, batchWatermark: W, windowMs: MIN });
    const rows = body.rows as { start: number; impressions: number; clicks: number; ctr: number; invalidClicks: number; source: string }[];
    // H0 is below the watermark without a batch version: its two windows have no rows.
    expect(rows).toHaveLength(32);
    expect(rows.slice(0, 30).every((r) => r.source === 'batch' && r.impressions === 12 && r.clicks === 2 && r.invalidClicks === 0)).toBe(true);
    expect(rows[29]!.start).toBe(W - MIN); // ends exactly at the watermark: batch
    expect(rows.slice(30)).toEqual([
      { start: W, end: W + MIN, impressions: 10, clicks: 1, ctr: 0.1, invalidImpressions: 0, invalidClicks: 1, source: 'speed' },
      { start: W + MIN, end: W + 2 * MIN, impressions: 10, clicks: 1, ctr: 0.1, invalidImpressions: 0, invalidClicks: 1, source: 'speed' },
    ]);
  });

  it('hour and day buckets sum windows; a bucket straddling the watermark is mixed', async () => {
    const hourly = (await get(`/v1/campaigns/c1/metrics?from=${H0}&to=${H0 + 3 * HOUR}&granularity=hour`)).json();
    expect(hourly.rows).toEqual([
      { start: H1, end: H2, impressions: 30 * 12 + 30 * 10, clicks: 30 * 2 + 30, ctr: 90 / 660, invalidImpressions: 0, invalidClicks: 30, source: 'mixed' },
      { start: H2, end: H2 + HOUR, impressions: 600, clicks: 60, ctr: 0.1, invalidImpressions: 0, invalidClicks: 60, source: 'speed' },
    ]);
    const daily = (await get(`/v1/campaigns/c1/metrics?from=${H0}&to=${H0 + 3 * HOUR}&granularity=day`)).json();
    expect(daily.rows).toHaveLength(1);
    expect(daily.rows[0]).toMatchObject({ impressions: 660 + 600, source: 'mixed' });
    // Default range: the last hour before now (all speed).
    const recent = (await get('/v1/campaigns/c1/metrics')).json();
    expect(recent.rows).toHaveLength(60);
    expect(recent.rows.every((r: { source: string }) => r.source === 'speed')).toBe(true);
  });

  it('attribution merges the same way, grouped by channel or campaign; markov is batch only', async () => {
    const byChannel = (await get(`/v1/attribution?from=${H1}&to=${H2}&model=last_touch&groupBy=channel`)).json();
    expect(byChannel).toMatchObject({ model: 'last_touch', groupBy: 'channel', granularity: 'total', batchWatermark: W });
    expect(byChannel.rows).toEqual([
      { start: H1, end: H2, key: 'search', conversions: 90, revenue: 900, source: 'mixed' },
      { start: H1, end: H2, key: 'social', conversions: 30, revenue: 0, source: 'mixed' },
    ]);
    const byCampaign = (await get(`/v1/attribution?from=${H1}&to=${W}&groupBy=campaign`)).json();
    expect(byCampaign.rows.map((r: { key: string; conversions: number; source: string }) => [r.key, r.conversions, r.source])).toEqual([
      ['c1', 60, 'batch'],
      ['c2', 30, 'batch'],
    ]);
    const markov = (await get(`/v1/attribution?from=${H1}&to=${H2}&model=markov&granularity=hour`)).json();
    expect(markov.rows).toEqual([{ start: H1, end: H2, key: 'search', conversions: 15, revenue: 150, source: 'mixed' }]);
  });

  it('page heatmap: merged clicks per element with share and rank', async () => {
    const res = (await get(`/v1/pages/p1/heatmap?from=${H1}&to=${H2}`)).json();
    expect(res).toMatchObject({ pageId: 'p1', source: 'mixed', totalClicks: 180, batchWatermark: W });
    expect(res.elements).toEqual([
      { elementId: 'el-a', clicks: 120, share: 120 / 180, rank: 1 },
      { elementId: 'el-b', clicks: 60, share: 60 / 180, rank: 2 },
    ]);
  });

  it('reconciliation: speed vs batch per hour and campaign with the causes', async () => {
    const one = (await get(`/v1/reconciliation?from=${H1}&to=${H2}&campaignId=c1`)).json();
    expect(one).toMatchObject({ from: H1, to: H2, model: 'last_touch', batchWatermark: W, shapleyVersion: 'shap-4' });
    expect(one.rows).toHaveLength(1);
    expect(one.rows[0]).toMatchObject({
      hourStart: H1,
      campaignId: 'c1',
      batchVersion: 'v1',
      batchShapleyVersion: 'shap-3',
      authoritative: false,
      impressions: { speed: 600, batch: 720, diff: -120, relDiff: -120 / 720 },
      invalidClicks: { speed: 60, batch: 0, diff: 60, relDiff: null },
      conversions: { speed: 60, batch: 120, diff: -60, relDiff: -0.5 },
      causes: {
        late: { impression: 3 },
        duplicates: { speed: 1, batch: 4 },
        invalid: { speed: { bot: 2 }, batch: { bot: 2 } },
        named: [
          { cause: 'late_events', speed: 3, batch: 0 },
          { cause: 'duplicates_beyond_dedupe_horizon', speed: 1, batch: 4 },
        ],
      },
      changes: { impressions: 120 },
    });
    const all = (await get(`/v1/reconciliation?from=${H0}&to=${H2 + HOUR}`)).json();
    const keys = all.rows.map((r: { hourStart: number; campaignId: string }) => `${(r.hourStart - H0) / HOUR}:${r.campaignId}`);
    expect(keys).toEqual(['0:c1', '1:*', '1:c1', '1:c2', '2:c1']);
    // An hour the batch layer has not computed: batch values null.
    expect(all.rows[0].impressions).toEqual({ speed: 600, batch: null, diff: null, relDiff: null });
  });

  it('exports: Parquet and CSV hold the same rows as the JSON route (read back with DuckDB)', async () => {
    const query = `from=${H1}&to=${H2}&model=last_touch&groupBy=channel&granularity=minute`;
    const json = (await get(`/v1/attribution?${query}`)).json().rows as Record<string, unknown>[];
    expect(json).toHaveLength(90);
    const parquet = await get(`/v1/export/attribution.parquet?${query}`);
    expect(parquet.statusCode).toBe(200);
    expect(parquet.headers['content-type']).toBe('application/vnd.apache.parquet');
    expect(parquet.headers['content-disposition']).toBe(`attachment; filename="attribution-last_touch-channel-${H1}-${H2}.parquet"`);
    const csv = await get(`/v1/export/attribution.csv?${query}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.body.split('\n')[0]).toBe('start,end,key,conversions,revenue,source');

    const dir = mkdtempSync(path.join(tmpdir(), 'sigflow-api-export-'));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      writeFileSync(path.join(dir, 'a.parquet'), parquet.rawPayload);
      writeFileSync(path.join(dir, 'a.csv'), csv.body);
      const normalize = (rows: Record<string, unknown>[]) =>
        rows.map((r) => ({ ...r, start: Number(r.start), end: Number(r.end), conversions: Number(r.conversions), revenue: Number(r.revenue) }));
      for (const source of [`read_parquet('${dir}/a.parquet')`, `read_csv('${dir}/a.csv', header = true)`]) {
        const reader = await conn.runAndReadAll(`SELECT * FROM ${source}`);
        expect(normalize(reader.getRowObjectsJS() as Record<string, unknown>[])).toEqual(json);
      }
    } finally {
      conn.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a version switch is served at once: hour H0 gets batch rows when it gets a version', async () => {
    await writeViews(api.redis, batchKeyspace(api.keys, 'v2'), deltas({ windowMetrics: minuteMetrics('c1', 'a1', H0, H1, { impressions: 7 }) }));
    await setBatchHour(api.redis, api.keys, H0, 'v2');
    const rows = (await get(`/v1/campaigns/c1/metrics?from=${H0}&to=${H1}&granularity=hour`)).json().rows;
    expect(rows).toEqual([{ start: H0, end: H1, impressions: 420, clicks: 0, ctr: 0, invalidImpressions: 0, invalidClicks: 0, source: 'batch' }]);
  });
});
