import type { WindowMetrics } from '../processor/event-outcome.js';
import { sortByKey, sumRows, type ViewSums } from './sum-by-key.js';

/** Windowed touchpoint counts per (windowStart, campaign_id, ad_id). */
export const windowMetricSums: ViewSums<WindowMetrics> = {
  key: (r) => [r.windowStart, r.campaign_id, r.ad_id],
  parts: (r, into) => {
    into[0] = r.campaign_id;
    into[1] = r.ad_id;
  },
  partCount: 2,
  create: (r) => ({ windowStart: r.windowStart, campaign_id: r.campaign_id, ad_id: r.ad_id, impressions: r.impressions, clicks: r.clicks, invalidImpressions: r.invalidImpressions, invalidClicks: r.invalidClicks }),
  add: (t, r) => {
    t.impressions += r.impressions;
    t.clicks += r.clicks;
    t.invalidImpressions += r.invalidImpressions;
    t.invalidClicks += r.invalidClicks;
  },
};

/**
 * Sums window metric rows (outcome increments, or already folded rows) per
 * (windowStart, campaign_id, ad_id), sorted by that key. Re-folding folded rows is a no-op,
 * so deltas of several batches can be folded together.
 */
export function foldWindowMetrics(rows: Iterable<WindowMetrics>): WindowMetrics[] {
  return sumRows(windowMetricSums, rows);
}

/** Windowed touchpoint counts of one (window, campaign), summed over its ads. */
export type CampaignWindowMetrics = Omit<WindowMetrics, 'ad_id'>;

/**
 * The per-campaign rollup of folded window metrics: sums per (windowStart, campaign_id), sorted
 * by that key. Both layers write it beside the per-ad rows, so a campaign read needs no
 * per-ad fields.
 */
export function foldCampaignWindows(rows: readonly WindowMetrics[]): CampaignWindowMetrics[] {
  const rollup = sumRows(windowMetricSums, rows.map((r) => ({ ...r, ad_id: '' })));
  return rollup.map(({ ad_id: _, ...campaign }) => campaign);
}

/** Click-through rate = valid clicks / valid impressions; null when there are no impressions. */
export function clickThroughRate(clicks: number, impressions: number): number | null {
  return impressions > 0 ? clicks / impressions : null;
}

/** WindowMetrics rows already summed per key (each key once), in foldWindowMetrics's order. */
export function orderWindowMetrics(rows: readonly WindowMetrics[]): WindowMetrics[] {
  return sortByKey(rows, windowMetricSums.key);
}
