import { type RedisClient, field, slotSafePipeline } from '@sigflow/store';
import type { WindowViewKeyspace } from '@sigflow/store/views';
import { windowStart, type RevenueCell, type SpendCell, hourStart } from '@sigflow/core';
import { revenueCellsOf, spendCellsOf } from '@sigflow/serving';
import type { TruthFile } from '@sigflow/loadgen';

/** Rows keyed by hash field, for one kind of view. */
export type ViewRows = Map<string, number>;

function add(map: ViewRows, key: string, value: number): void {
  if (value !== 0) map.set(key, (map.get(key) ?? 0) + value);
}

/**
 * What the speed views must hold for a generator run, from its truth file alone (an oracle
 * independent of packages/core): late events are left out of windowed views and attribution.
 * Keys are `${campaign}\t${hash field}` (metrics, spend), `${model}\t${field}` (attribution), `${page}\t${field}` (heatmap).
 */
export function expectedSpeedViews(truth: TruthFile, windowMs: number) {
  const metrics: ViewRows = new Map();
  for (const w of truth.windows) {
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'impressions'), w.impressions - w.late_impressions);
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'clicks'), w.clicks - w.late_clicks);
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'invalid_impressions'), w.invalid_impressions - w.late_invalid_impressions);
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'invalid_clicks'), w.invalid_clicks - w.late_invalid_clicks);
  }
  // Channel spend: the cost of valid and of invalid touchpoints, and valid clicks, per channel.
  const spend: ViewRows = new Map();
  for (const w of truth.windows) {
    add(spend, field(w.campaign_id, w.window_start, w.channel, 'spend'), w.spend - w.late_spend);
    add(spend, field(w.campaign_id, w.window_start, w.channel, 'invalid_spend'), w.invalid_spend - w.late_invalid_spend);
    add(spend, field(w.campaign_id, w.window_start, w.channel, 'clicks'), w.clicks - w.late_clicks);
  }
  const attribution: ViewRows = new Map();
  for (const c of truth.conversions) {
    if (c.late) continue;
    const ws = windowStart(c.ts, windowMs);
    const credit = (model: string, campaign: string, channel: string, fraction: number) => {
      add(attribution, field(model, ws, campaign, channel, 'c'), fraction);
      add(attribution, field(model, ws, campaign, channel, 'r'), fraction * c.value);
    };
    if (c.path.length === 0) {
      for (const model of ['last_touch', 'first_touch', 'linear']) credit(model, 'none', 'direct', 1);
      continue;
    }
    const first = c.path[0]!;
    const last = c.path[c.path.length - 1]!;
    credit('first_touch', first.campaign_id, first.channel, 1);
    credit('last_touch', last.campaign_id, last.channel, 1);
    for (const t of c.path) credit('linear', t.campaign_id, t.channel, 1 / c.path.length);
  }
  const heatmap: ViewRows = new Map();
  for (const h of truth.heatmap) add(heatmap, field(h.page_id, h.window_start, h.element_id), h.clicks - h.late_clicks);
  return { metrics, spend, attribution, heatmap };
}

/** The hours a truth file's events fall in. */
export function truthHours(truth: TruthFile): number[] {
  const hours = new Set<number>();
  for (const w of truth.windows) hours.add(hourStart(w.window_start));
  for (const c of truth.conversions) hours.add(hourStart(c.ts));
  for (const h of truth.heatmap) hours.add(hourStart(h.window_start));
  return [...hours].sort((a, b) => a - b);
}

/**
 * Which keyspaces serve an hour: the speed views (one keyspace per partition, summed), or the
 * batch version switched in for it; none when nothing does.
 */
export type KeyspaceOfHour = (hour: number) => readonly WindowViewKeyspace[] | WindowViewKeyspace | null;

/** Reads the views a truth file talks about, keyed like {@link expectedSpeedViews}. */
export async function readViews(redis: RedisClient, spaceOf: KeyspaceOfHour, truth: TruthFile, models = ['last_touch', 'first_touch', 'linear']) {
  const hours = truthHours(truth);
  const campaigns = truth.catalogue.campaigns.map((c) => c.campaign_id).concat('none');
  const pages = truth.catalogue.pages.map((p) => p.page_id);
  const read = async (names: string[], keyOf: (space: WindowViewKeyspace, name: string, hour: number) => string) => {
    const rows: ViewRows = new Map();
    const pipeline = slotSafePipeline(redis);
    const index: string[] = [];
    for (const name of names) {
      for (const h of hours) {
        const spaces = spaceOf(h);
        for (const space of spaces === null ? [] : Array.isArray(spaces) ? spaces : [spaces as WindowViewKeyspace]) {
          pipeline.hgetall(keyOf(space, name, h));
          index.push(name);
        }
      }
    }
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([err, value], i) => {
      if (err) throw err;
      for (const [f, v] of Object.entries(value as Record<string, string>)) add(rows, field(index[i]!, f), Number(v));
    });
    return rows;
  };
  return {
    metrics: await read(campaigns, (s, c, h) => s.metrics(c, h)),
    campaignMetrics: await read(campaigns, (s, c, h) => s.campaignMetrics(c, h)),
    spend: await read(campaigns, (s, c, h) => s.spend(c, h)),
    attribution: await read(models, (s, m, h) => s.attribution(m, h)),
    heatmap: await read(pages, (s, p, h) => s.heatmap(p, h)),
    pageActivity: await read(pages, (s, p, h) => s.pageActivity(p, h)),
  };
}

/**
 * Per-ad metric rows (`campaign | window | ad | metric`) summed over the ads
 * (`campaign | window | metric`): what the per-campaign rollup views must hold.
 */
export function rollUpAds(metrics: ViewRows): ViewRows {
  const rows: ViewRows = new Map();
  for (const [key, n] of metrics) {
    const [campaign, window, , metric] = key.split('\t');
    add(rows, field(campaign!, window!, metric!), n);
  }
  return rows;
}

/**
 * What core's `campaignBidding` takes, per campaign of a truth file, from one layer's views:
 * the channel spend cells and the revenue cells of `model` (the layers' own hashes, parsed by
 * `@sigflow/serving` as the bidding service parses them).
 */
export async function readBiddingCells(redis: RedisClient, spaceOf: KeyspaceOfHour, truth: TruthFile, model: string) {
  const hours = truthHours(truth);
  const campaigns = truth.catalogue.campaigns.map((c) => c.campaign_id);
  const spacesOf = (h: number) => {
    const spaces = spaceOf(h);
    return spaces === null ? [] : Array.isArray(spaces) ? spaces : [spaces as WindowViewKeyspace];
  };
  const hashes = async (keys: string[]) => Promise.all(keys.map((k) => redis.hgetall(k)));
  const cells = new Map<string, { spend: SpendCell[]; revenue: RevenueCell[] }>(campaigns.map((c) => [c, { spend: [], revenue: [] }]));
  for (const h of hours) {
    const spaces = spacesOf(h);
    for (const c of campaigns) cells.get(c)!.spend.push(...spendCellsOf(await hashes(spaces.map((s) => s.spend(c, h)))));
    for (const [c, revenue] of revenueCellsOf(await hashes(spaces.map((s) => s.attribution(model, h))))) cells.get(c)?.revenue.push(...revenue);
  }
  return cells;
}

/** Reads the speed views (every partition's part, summed) a truth file talks about. */
export function readSpeedViews(redis: RedisClient, spaces: readonly WindowViewKeyspace[], truth: TruthFile) {
  return readViews(redis, () => spaces, truth);
}

/** Differences between two view row sets (relative tolerance for float sums), at most `max` listed. */
export function viewDifferences(expected: ViewRows, actual: ViewRows, tolerance = 0, max = 20): string[] {
  const diffs: string[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(key) ?? 0;
    const a = actual.get(key) ?? 0;
    if (Math.abs(e - a) > tolerance * Math.max(1, Math.abs(e))) diffs.push(`${key.replaceAll('\t', ' | ')}: expected ${e}, got ${a}`);
    if (diffs.length >= max) break;
  }
  return diffs;
}
