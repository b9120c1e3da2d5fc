import { describe, expect, it } from 'vitest';
import { orderAttribution, orderChannelSpend, orderHeatmap, orderPageActivity, orderWindowMetrics, type AttributionDelta, type ChannelSpend, type HeatmapIncrement, type PageActivityIncrement, type WindowMetrics } from '../src/index.js';
import { foldAttribution } from '../src/views/attribution-deltas.js';
import { foldChannelSpend } from '../src/views/channel-spend.js';
import { foldHeatmap } from '../src/views/heatmap-deltas.js';
import { foldPageActivity } from '../src/views/page-activity-deltas.js';
import { foldWindowMetrics } from '../src/views/window-metrics.js';
import { MINUTE, T0, seededRandom, shuffle } from './helpers.js';

const windows = [T0 + 2 * MINUTE, T0, T0 + MINUTE];
// Strings that sort differently by code points than by UTF-16 units (U+FF5E against U+1F600).
const names = ['b', 'a', '\uff5e', '\u{1f600}', 'a2'];

describe('the order functions of the view folds (for rows already summed, each key once)', () => {
  it('give the rows of a fold in the fold\'s order, whatever order they come in', () => {
    const metrics: WindowMetrics[] = windows.flatMap((w, i) =>
      names.flatMap((c, j) => names.slice(0, 3).map((ad, k) => ({ windowStart: w, campaign_id: c, ad_id: ad, impressions: i + j + k, clicks: k, invalidImpressions: 0, invalidClicks: j }))),
    );
    const spend: ChannelSpend[] = windows.flatMap((w) => names.flatMap((c, j) => names.map((ch, k) => ({ windowStart: w, campaign_id: c, channel: ch, spend: 10 * j + k, invalidSpend: k, clicks: j }))));
    const attribution: AttributionDelta[] = windows.flatMap((w) =>
      (['last_touch', 'linear', 'shapley'] as const).flatMap((m) => names.map((c, j) => ({ windowStart: w, model: m, campaign_id: c, channel: names[(j + 1) % names.length] as string, conversions: j / 3, revenue: j }))),
    );
    const heatmap: HeatmapIncrement[] = windows.flatMap((w) => names.flatMap((p) => names.map((e, k) => ({ page_id: p, windowStart: w, element_id: e, clicks: k + 1 }))));
    const pageActivity: PageActivityIncrement[] = windows.flatMap((w) =>
      names.flatMap((p) => [
        { page_id: p, windowStart: w, metric: ['view'] as const, count: 1 },
        { page_id: p, windowStart: w, metric: ['scroll', 75] as const, count: 2 },
        { page_id: p, windowStart: w, metric: ['scroll', 25] as const, count: 3 },
        { page_id: p, windowStart: w, metric: ['form', 'f1', 'abandon'] as const, count: 4 },
        { page_id: p, windowStart: w, metric: ['mouse', 3, 12] as const, count: 5 },
        { page_id: p, windowStart: w, metric: ['mouse', 3, 2] as const, count: 6 },
      ]),
    ) as PageActivityIncrement[];
    for (const [seed, [order, fold, rows]] of [
      [orderWindowMetrics, foldWindowMetrics, metrics],
      [orderChannelSpend, foldChannelSpend, spend],
      [orderAttribution, foldAttribution, attribution],
      [orderHeatmap, foldHeatmap, heatmap],
      [orderPageActivity, foldPageActivity, pageActivity],
    ].entries() as IterableIterator<[number, [(r: object[]) => object[], (r: object[]) => object[], object[]]]>) {
      // Shuffled (seeded), so an order that merely kept the input's would fail.
      const input = shuffle(rows, seededRandom(seed + 1));
      expect(order(input)).not.toEqual(input);
      expect(order(input)).toEqual(fold(rows));
    }
  });
});
