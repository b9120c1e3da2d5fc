import type { WindowMetrics } from '../processor/event-outcome.js';
import { sortByKey, sumByKey, type KeyTuple, type Mutable } from './sum-by-key.js';

/** The key foldWindowMetrics sums WindowMetrics rows by. */
const windowMetricsKey = (r: WindowMetrics): KeyTuple => [r.windowStart, r.campaign_id, r.ad_id];

/**
 * Sums window metric rows (outcome increments, or already folded rows) per
 * (windowStart, campaign_id, ad_id), sorted by that key. Re-folding folded rows is a no-op,
 * so deltas of several batches can be folded together.
 */
export function foldWindowMetrics(rows: Iterable<WindowMetrics>): WindowMetrics[] {
  return sumByKey(
    rows,
    windowMetricsKey,
    (t, r) => {
      const sum = t as Mutable<WindowMetrics>;
      sum.impressions += r.impressions;
      sum.clicks += r.clicks;
      sum.invalidImpressions += r.invalidImpressions;
      sum.invalidClicks += r.invalidClicks;
      return sum;
    },
  );
}

/** Windowed touchpoint counts of one (window, campaign), summed over its ads. */
export type CampaignWindowMetrics = Omit<WindowMetrics, 'ad_id'>;

/**
 * The per-campaign rollup of folded window metrics: sums per (windowStart, campaign_id), sorted
 * by that key. Both layers write it beside the per-ad rows, so a campaign read needs no
 * per-ad fields.
 */
export function foldCampaignWindows(rows: readonly WindowMetrics[]): CampaignWindowMetrics[] {
  return sumByKey<Mutable<CampaignWindowMetrics>>(
    rows.map((r) => ({ windowStart: r.windowStart, campaign_id: r.campaign_id, impressions: r.impressions, clicks: r.clicks, invalidImpressions: r.invalidImpressions, invalidClicks: r.invalidClicks })),
    (r) => [r.windowStart, r.campaign_id],
    (t, r) => {
      t.impressions += r.impressions;
      t.clicks += r.clicks;
      t.invalidImpressions += r.invalidImpressions;
      t.invalidClicks += r.invalidClicks;
      return t;
    },
  );
}

/** Click-through rate = valid clicks / valid impressions; null when there are no impressions. */
export function clickThroughRate(clicks: number, impressions: number): number | null {
  return impressions > 0 ? clicks / impressions : null;
}

/** WindowMetrics rows already summed per key (each key once), in foldWindowMetrics's order. */
export function orderWindowMetrics(rows: readonly WindowMetrics[]): WindowMetrics[] {
  return sortByKey(rows, windowMetricsKey);
}
