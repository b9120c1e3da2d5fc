import type { Redis } from 'ioredis';
import { windowStart } from '@sigflow/core';
import type { TruthFile } from '@sigflow/loadgen';
import { field, hourStart, type WindowViewKeyspace } from '@sigflow/store';

/** Rows keyed by hash field, for one kind of view. */
export type ViewRows = Map<string, number>;

function add(map: ViewRows, key: string, value: number): void {
  if (value !== 0) map.set(key, (map.get(key) ?? 0) + value);
}

/**
 * What the speed views must hold for a generator run, from its truth file alone (an oracle
 * independent of packages/core): late events are left out of windowed views and attribution.
 * Keys are `${campaign}\t${hash field}` (metrics), `${model}\t${field}` (attribution), `${page}\t${field}` (heatmap).
 */
export function expectedSpeedViews(truth: TruthFile, windowMs: number) {
  const metrics: ViewRows = new Map();
  for (const w of truth.windows) {
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'impressions'), w.impressions - w.late_impressions);
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'clicks'), w.clicks - w.late_clicks);
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'invalid_impressions'), w.invalid_impressions - w.late_invalid_impressions);
    add(metrics, field(w.campaign_id, w.window_start, w.ad_id, 'invalid_clicks'), w.invalid_clicks - w.late_invalid_clicks);
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
  return { metrics, attribution, heatmap };
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
export async function readViews(redis: Redis, spaceOf: KeyspaceOfHour, truth: TruthFile, models = ['last_touch', 'first_touch', 'linear']) {
  const hours = truthHours(truth);
  const campaigns = truth.catalogue.campaigns.map((c) => c.campaign_id).concat('none');
  const pages = truth.catalogue.pages.map((p) => p.page_id);
  const read = async (names: string[], keyOf: (space: WindowViewKeyspace, name: string, hour: number) => string) => {
    const rows: ViewRows = new Map();
    const pipeline = redis.pipeline();
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
    attribution: await read(models, (s, m, h) => s.attribution(m, h)),
    heatmap: await read(pages, (s, p, h) => s.heatmap(p, h)),
  };
}

/** Reads the speed views (every partition's part, summed) a truth file talks about. */
export function readSpeedViews(redis: Redis, spaces: readonly WindowViewKeyspace[], truth: TruthFile) {
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
