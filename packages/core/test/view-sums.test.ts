import { describe, expect, it } from 'vitest';
import { attributionSums, channelSpendSums, eventCountSums, heatmapSums, invalidTrafficSums, pageActivitySums, windowMetricSums, type ViewSums } from '../src/index.js';
import { foldWindowMetrics } from '../src/views/window-metrics.js';

const T = 1_764_000_000_000;
const M = 60_000;

/** Running totals the way the batch layer keeps them: per key, created from the first row, later rows added. */
function accumulate<R extends { readonly windowStart: number }>(sums: ViewSums<R>, rows: readonly R[]): Map<string, R> {
  const totals = new Map<string, R>();
  const parts: unknown[] = [];
  for (const row of rows) {
    sums.parts(row, parts);
    const id = JSON.stringify([row.windowStart, ...parts.slice(0, sums.partCount)]);
    const t = totals.get(id);
    if (t) sums.add(t, row);
    else totals.set(id, sums.create(row));
  }
  return totals;
}

/** Two halves accumulated apart, the second merged into the first. */
function merged<R extends { readonly windowStart: number }>(sums: ViewSums<R>, rows: readonly R[]): Map<string, R> {
  const first = accumulate(sums, rows.slice(0, 2));
  for (const [id, t] of accumulate(sums, rows.slice(2))) {
    const into = first.get(id);
    if (into) sums.add(into, t);
    else first.set(id, t);
  }
  return first;
}

type Row = { readonly windowStart: number; readonly [field: string]: unknown };
type AnySums = ViewSums<Row>;

const cases: [string, AnySums, Row[]][] = [
  ['window metrics', windowMetricSums as unknown as AnySums, [
    { windowStart: T, campaign_id: 'c1', ad_id: 'a1', impressions: 1, clicks: 0, invalidImpressions: 0, invalidClicks: 0 },
    { windowStart: T, campaign_id: 'c1', ad_id: 'a2', impressions: 1, clicks: 0, invalidImpressions: 0, invalidClicks: 0 },
    { windowStart: T, campaign_id: 'c1', ad_id: 'a1', impressions: 0, clicks: 1, invalidImpressions: 0, invalidClicks: 0 },
    { windowStart: T + M, campaign_id: 'c1', ad_id: 'a1', impressions: 0, clicks: 0, invalidImpressions: 1, invalidClicks: 0 },
  ]],
  ['spend', channelSpendSums as unknown as AnySums, [
    { windowStart: T, campaign_id: 'c1', channel: 'search', spend: 5, invalidSpend: 0, clicks: 1 },
    { windowStart: T, campaign_id: 'c1', channel: 'social', spend: 2, invalidSpend: 0, clicks: 0 },
    { windowStart: T, campaign_id: 'c1', channel: 'search', spend: 0, invalidSpend: 3, clicks: 0 },
  ]],
  ['attribution', attributionSums as unknown as AnySums, [
    { windowStart: T, model: 'linear', campaign_id: 'c1', channel: 'search', conversions: 0.5, revenue: 10 },
    { windowStart: T, model: 'linear', campaign_id: 'c1', channel: 'social', conversions: 0.5, revenue: 10 },
    { windowStart: T, model: 'linear', campaign_id: 'c1', channel: 'search', conversions: 0.25, revenue: 5 },
    { windowStart: T, model: 'shapley', campaign_id: 'c1', channel: 'search', conversions: 1, revenue: 20 },
  ]],
  ['heatmap', heatmapSums as unknown as AnySums, [
    { page_id: 'home', windowStart: T, element_id: 'buy', clicks: 1 },
    { page_id: 'home', windowStart: T, element_id: 'nav', clicks: 1 },
    { page_id: 'home', windowStart: T, element_id: 'buy', clicks: 1 },
  ]],
  ['page activity', pageActivitySums as unknown as AnySums, [
    { page_id: 'home', windowStart: T, metric: ['mouse', 3, 4], count: 1 },
    { page_id: 'home', windowStart: T, metric: ['mouse', 4, 3], count: 1 },
    { page_id: 'home', windowStart: T, metric: ['mouse', 3, 4], count: 1 },
    { page_id: 'home', windowStart: T, metric: ['form', 'signup', 'submit'], count: 1 },
  ]],
  ['event counts', eventCountSums as unknown as AnySums, [
    { windowStart: T, name: 'search', outcome: 'valid', count: 1 },
    { windowStart: T, name: 'search', outcome: 'invalid:bot', count: 1 },
    { windowStart: T, name: 'search', outcome: 'valid', count: 1 },
  ]],
  ['invalid traffic', invalidTrafficSums as unknown as AnySums, [
    { windowStart: T, type: 'click', reason: 'bot', events: 1 },
    { windowStart: T, type: 'click', reason: 'flood', events: 1 },
    { windowStart: T, type: 'click', reason: 'bot', events: 1 },
  ]],
];

describe("each view's sums (core's one definition, both layers' accumulator)", () => {
  it('sums window metrics per window, campaign and ad (by hand)', () => {
    const rows = cases[0]![2] as unknown as Parameters<typeof foldWindowMetrics>[0];
    expect(foldWindowMetrics(rows)).toEqual([
      { windowStart: T, campaign_id: 'c1', ad_id: 'a1', impressions: 1, clicks: 1, invalidImpressions: 0, invalidClicks: 0 },
      { windowStart: T, campaign_id: 'c1', ad_id: 'a2', impressions: 1, clicks: 0, invalidImpressions: 0, invalidClicks: 0 },
      { windowStart: T + M, campaign_id: 'c1', ad_id: 'a1', impressions: 0, clicks: 0, invalidImpressions: 1, invalidClicks: 0 },
    ]);
  });

  it.each(cases)('%s: merging two partial totals gives the totals of all rows, and the key parts tell rows apart as the key does', (_, sums, rows) => {
    const whole = accumulate(sums, rows);
    expect(merged(sums, rows)).toEqual(whole);
    const keys = new Set(rows.map((r) => JSON.stringify(sums.key(r))));
    expect(whole.size).toBe(keys.size);
    expect(whole.size).toBeLessThan(rows.length);
  });

  it('never lets a total share an object with the row it was created from', () => {
    const row = { windowStart: T, name: 'search', outcome: 'valid', count: 1 };
    const total = eventCountSums.create(row);
    eventCountSums.add(total, row);
    expect([row.count, total.count]).toEqual([1, 2]);
  });
});
