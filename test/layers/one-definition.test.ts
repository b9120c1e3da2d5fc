import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignBidding, defaultBiddingSettings, realTimeModels, segmentIdOf, type CampaignBidding, type RevenueCell, type SegmentRule, type SpendCell } from '@sigflow/core';
import { DuckDBSession, createBatchContext, recomputeHours, recomputeSegments } from '@sigflow/batch';
import { EventStream, runGenerator, type SinkEvent, type TruthFile } from '@sigflow/loadgen';
import { userPartition } from '@sigflow/events';
import type { StoreKeys, RedisClient } from '@sigflow/store';
import { batchKeyspace, readBatchHourEntries } from '@sigflow/store/batch';
import { putSegmentDefinition, readSegmentMembers, readSegmentSizes } from '@sigflow/store/segments-alerts';
import { Scenario } from '../support/scenario.js';
import { inOrder } from '../speed/speed-run.js';
import { waitUntil } from '../support/redis-keys.js';
import { expectedSpeedViews, readBiddingCells, readViews, rollUpAds, truthHours, viewDifferences } from '../support/speed-truth.js';

const START = Date.UTC(2026, 10, 19, 6, 0, 0);

/** Segments over every feature kind, defined before the traffic is processed. */
const segments: Record<string, SegmentRule> = {
  engaged: { all: [{ feature: 'engagement_score', op: '>=', value: 1.5 }] },
  clickers: { all: [{ feature: 'count:click:24h', op: '>=', value: 1 }, { feature: 'channels', op: 'in', value: ['search', 'social', 'email'] }] },
  flagged: { any: [{ feature: 'flagged', op: '==', value: true }] },
  readers: { all: [{ feature: 'count:page_view:1h', op: '>=', value: 2 }, { any: [{ feature: 'last_conversion_age_s', op: '<', value: 3600 }, { feature: 'channels', op: '>=', value: 1 }] }] },
  searchers: { all: [{ feature: 'count:track:search:1h', op: '>=', value: 2 }, { feature: 'trait:plan', op: '==', value: 'pro' }] },
};

const HOUR = 3_600_000;
const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/**
 * Shoppers in the hour before the generator's traffic (so both are in order): each identifies
 * (plan, seats), searches 0 to 4 times and views an item; every tenth is a bot (its custom events
 * invalid). In event-time order, keyed and partitioned as the collector does.
 */
function shopperEvents(): SinkEvent[] {
  const events: { ts: number; user: string; body: Record<string, unknown> }[] = [];
  for (let i = 0; i < 200; i++) {
    const user = `shop-${i}`;
    const at = START - 55 * 60_000 + i * 10_000;
    const ua = i % 10 === 0 ? BOT_UA : 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0';
    events.push({ ts: at, user, body: { type: 'identify', traits: { plan: i % 3 === 0 ? 'free' : 'pro', seats: i % 5 } } });
    for (let j = 0; j < i % 5; j++) events.push({ ts: at + 60_000 * (j + 1), user, body: { type: 'track', name: 'search', properties: { query: `q${j}` }, user_agent: ua } });
    events.push({ ts: at + 400_000, user, body: { type: 'track', name: 'view_item', properties: { sku: `sku-${i % 7}` }, user_agent: ua } });
  }
  events.sort((a, b) => a.ts - b.ts);
  return events.map((e, n) => ({
    key: e.user,
    partition: userPartition(e.user, 4),
    json: JSON.stringify({ event_id: `shop-e${n}`, user_id: e.user, ts: e.ts, received_at: e.ts, ...e.body }),
  }));
}

/** Every segment's size per window over [from, to), and its members as of `to`, as the store serves them. */
async function segmentViews(redis: RedisClient, keys: StoreKeys, ids: Map<string, string>, from: number, to: number, source: 'speed' | 'batch') {
  const sizes = new Map<string, number>();
  const members = new Map<string, string[]>();
  for (const [name, segmentId] of ids) {
    const { windows } = await readSegmentSizes(redis, keys, { segmentId, from, to, windowMs: 60_000, partitions: 4, maxKeys: 10_000 });
    for (const w of windows) {
      expect(w.source).toBe(source);
      sizes.set(`${name}\t${w.windowStart}\tsize`, w.size);
      sizes.set(`${name}\t${w.windowStart}\tin`, w.entered);
      sizes.set(`${name}\t${w.windowStart}\tout`, w.left);
    }
    const list: string[] = [];
    for (let after: string | null = null, first = true; first || after !== null; first = false) {
      const page = await readSegmentMembers(redis, keys, { segmentId, source, partitions: 4, after, limit: 500, asOf: to });
      list.push(...page.members.map((m) => `${m.userId}@${m.entered}`));
      after = page.next;
    }
    members.set(name, list.sort());
  }
  return { sizes, members };
}

// "One definition, two executions": the speed layer (incremental, per partition, in arrival
// order) and the batch layer (DuckDB scan of the archive, sorted by user and time) run the
// same rules from packages/core; on in-order data their views must be equal.
describe('speed views equal batch views on in-order data', () => {
  let scenario: Scenario;
  let archiveDir: string;
  afterEach(async () => {
    await scenario?.tearDown();
    fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('for every windowed view (page activity included) and every real-time model', async () => {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-layers-'));
    scenario = new Scenario('layers', { SIGFLOW_ARCHIVE_DIR: archiveDir });
    await scenario.setUp();
    const ids = new Map<string, string>();
    for (const [name, rule] of Object.entries(segments)) {
      const { definition } = await putSegmentDefinition(scenario.redis, scenario.keys, { name, rule, description: '', now: START, newId: segmentIdOf(name, START), max: 50 });
      ids.set(name, definition.id);
    }
    const sink = scenario.kafkaSink();
    await sink.connect();
    const shoppers = shopperEvents();
    await sink.write(shoppers);
    await sink.flush();
    // The speed suites' hard cases, IP floods across partitions included (NATs and 50-user botnets).
    const stream = new EventStream({ ...inOrder, seed: 23, events: 20_000, start: START, span: 4 * 3_600_000, rules: scenario.config.rules });
    const run = await runGenerator({ stream, sink, truth: true });
    await sink.close();
    const truth: TruthFile = run.truth!.toJSON();
    expect(truth.totals.cross_partition_floods?.total).toBeGreaterThan(10);
    // The traffic is in the topic before the layers start: the speed layer's rounds then align
    // every partition in event time, so its IP flood verdicts are the exact ones (live, it is
    // exact up to arrival order across partitions: DESIGN.md).
    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    await Promise.all([speed.start(), archiver.start()]);

    await waitUntil('the speed layer to process everything', () => scenario.speedCounters(), (c) => (c['events'] ?? 0) + (c['duplicates'] ?? 0) >= truth.totals.sent + shoppers.length, 120_000);
    await waitUntil('the archiver to commit everything', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 120_000);

    // The shoppers' hour, then the generator's.
    const hours = [START - HOUR, ...truthHours(truth)];
    const result = await recomputeHours({ from: hours[0]!, to: hours[hours.length - 1]! + HOUR, config: scenario.config, redis: scenario.redis, shapley: null, markov: null });
    expect(result.hours.length).toBe(hours.length);

    const versions = await readBatchHourEntries(scenario.redis, scenario.keys, hours);
    expect(versions.size).toBe(hours.length);
    // Custom events per name and minute: the shoppers' own count (valid, and bots), in both layers.
    const speedCounts = await readEventCounts(scenario.redis, hours, (h) => scenario.speedKeyspaces().map((k) => k.eventCounts(h)));
    const batchCounts = await readEventCounts(scenario.redis, hours, (h) => [batchKeyspace(scenario.keys, versions.get(h)!.version).eventCounts(h)]);
    expect(viewDifferences(expectedEventCounts(shoppers), speedCounts)).toEqual([]);
    expect(viewDifferences(batchCounts, speedCounts)).toEqual([]);
    const models = [...realTimeModels];
    const speedViews = await readViews(scenario.redis, () => scenario.speedKeyspaces(), truth, models);
    const batchViews = await readViews(scenario.redis, (h) => batchKeyspace(scenario.keys, versions.get(h)!.version), truth, models);

    expect(speedViews.metrics.size).toBeGreaterThan(100);
    // Batch against the generator's truth (IP floods judged over every partition by event time).
    expect(viewDifferences(expectedSpeedViews(truth, scenario.config.rules.windowMs).metrics, batchViews.metrics)).toEqual([]);
    expect(viewDifferences(batchViews.metrics, speedViews.metrics)).toEqual([]);
    // The per-campaign rollup (what campaign reads serve): the truth's per-ad counts summed, in both layers.
    expect(viewDifferences(rollUpAds(expectedSpeedViews(truth, scenario.config.rules.windowMs).metrics), batchViews.campaignMetrics)).toEqual([]);
    expect(viewDifferences(batchViews.campaignMetrics, speedViews.campaignMetrics)).toEqual([]);
    // Spend, invalid spend and valid clicks per campaign and channel: the truth's, in both layers.
    expect(speedViews.spend.size).toBeGreaterThan(100);
    expect(viewDifferences(expectedSpeedViews(truth, scenario.config.rules.windowMs).spend, batchViews.spend)).toEqual([]);
    expect(viewDifferences(batchViews.spend, speedViews.spend)).toEqual([]);
    expect(viewDifferences(batchViews.heatmap, speedViews.heatmap)).toEqual([]);
    // Page activity: page views, scroll milestones, form actions and mouse-grid cells, per page and window.
    expect(viewDifferences(batchViews.pageActivity, speedViews.pageActivity)).toEqual([]);
    for (const kind of ['view', 'scroll', 'form', 'mouse']) {
      expect([...speedViews.pageActivity.keys()].filter((k) => k.split('\t')[2] === kind).length, kind).toBeGreaterThan(20);
    }
    // Credits are float sums added in a different order by the two layers.
    expect(viewDifferences(batchViews.attribution, speedViews.attribution, 1e-9)).toEqual([]);
    for (const model of models) {
      expect([...speedViews.attribution.keys()].some((k) => k.startsWith(`${model}\t`)), model).toBe(true);
    }

    // Pacing and bid multipliers: core's campaignBidding over each layer's cells gives the same
    // figures (spend today in a budget time zone, pace, status, per channel spend, clicks and
    // revenue in the trailing hour, multiplier). One click is enough data here, so multipliers are computed.
    const settings = { ...defaultBiddingSettings, minClicks: 1 };
    const t = START + 3.5 * 3_600_000;
    const speedCells = await readBiddingCells(scenario.redis, () => scenario.speedKeyspaces(), truth, settings.model);
    const batchCells = await readBiddingCells(scenario.redis, (h) => batchKeyspace(scenario.keys, versions.get(h)!.version), truth, settings.model);
    const reasons = new Set<string>();
    truth.catalogue.campaigns.forEach(({ campaign_id: campaign }, i) => {
      const spent = truth.windows.filter((w) => w.campaign_id === campaign).reduce((sum, w) => sum + w.spend, 0);
      // Budgets in zones whose day started before the traffic, some of them overspent already.
      const budget = { dailyBudgetMicros: Math.round(spent * (i % 3 === 0 ? 0.5 : 3)), timeZone: i % 2 ? 'America/New_York' : 'Asia/Kolkata', targetRoas: 1.5 };
      const figures = (cells: { spend: SpendCell[]; revenue: RevenueCell[] } | undefined) =>
        campaignBidding({ t, budget, settings, spend: cells?.spend ?? [], revenue: cells?.revenue ?? [] });
      const [speed, batch] = [figures(speedCells.get(campaign)), figures(batchCells.get(campaign))];
      expect(comparable(speed), campaign).toEqual(comparable(batch));
      for (const c of speed.channels) reasons.add(c.reason);
    });
    expect(reasons).toContain('roas_and_pace');
    expect(reasons).toContain('exhausted');

    // Segments: sizes per window and members as of the range's end, speed == batch.
    const [from, to] = [hours[0]!, hours[hours.length - 1]! + 3_600_000];
    const speedSegments = await segmentViews(scenario.redis, scenario.keys, ids, from, to, 'speed');
    const session = await DuckDBSession.forBatch(scenario.config.batch);
    const recomputed = await recomputeSegments({ context: createBatchContext(scenario.config, scenario.redis), from, to, duckdb: session }).finally(() => session.close());
    expect(recomputed.definitionsVersion).toBe(Object.keys(segments).length);
    expect(recomputed.segments.map((s) => [s.name, s.version])).toEqual(Object.keys(segments).sort().map((n) => [n, 1]));
    const batchSegments = await segmentViews(scenario.redis, scenario.keys, ids, from, to, 'batch');
    for (const name of ids.keys()) {
      expect(speedSegments.members.get(name)!.length, name).toBeGreaterThan(10);
      expect(batchSegments.members.get(name), name).toEqual(speedSegments.members.get(name));
    }
    expect(viewDifferences(batchSegments.sizes, speedSegments.sizes)).toEqual([]);
    expect([...speedSegments.sizes.values()].some((n) => n > 10)).toBe(true);
  });
});

/** Every event-count hash of the hours, summed by field (`window \t name \t outcome`). */
async function readEventCounts(redis: RedisClient, hours: readonly number[], keysOf: (hour: number) => string[]): Promise<Map<string, number>> {
  const rows = new Map<string, number>();
  for (const key of hours.flatMap(keysOf)) {
    for (const [f, v] of Object.entries(await redis.hgetall(key))) rows.set(f, (rows.get(f) ?? 0) + Number(v));
  }
  return rows;
}

/** The shoppers' custom events per minute, name and outcome, counted from what was sent. */
function expectedEventCounts(events: readonly SinkEvent[]): Map<string, number> {
  const rows = new Map<string, number>();
  for (const { json } of events) {
    const e = JSON.parse(json) as { type: string; ts: number; name?: string; user_agent?: string };
    if (e.type !== 'track') continue;
    const field = `${Math.floor(e.ts / 60_000) * 60_000}\t${e.name}\t${e.user_agent === BOT_UA ? 'invalid:bot' : 'valid'}`;
    rows.set(field, (rows.get(field) ?? 0) + 1);
  }
  return rows;
}

/** Figures with float sums (revenue, ROAS and what depends on it) to 9 significant digits: the layers add credits in another order. */
function comparable(b: CampaignBidding) {
  const round = (x: number | null) => (x === null ? null : Number(x.toPrecision(9)));
  return {
    ...b,
    pace: round(b.pace),
    channels: b.channels.map((c) => ({ ...c, inputs: { ...c.inputs, revenue: round(c.inputs.revenue), roas: round(c.inputs.roas), roasFactor: round(c.inputs.roasFactor) } })),
  };
}
