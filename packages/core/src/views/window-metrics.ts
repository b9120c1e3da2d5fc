import type { WindowMetrics } from '../processor/event-outcome.js';
import { sumByKey } from './sum-by-key.js';

/**
 * Sums window metric rows (outcome increments, or already folded rows) per
 * (windowStart, campaign_id, ad_id), sorted by that key. Re-folding folded rows is a no-op,
 * so deltas of several batches can be folded together.
 */
export function foldWindowMetrics(rows: Iterable<WindowMetrics>): WindowMetrics[] {
  return sumByKey(
    rows,
    (r) => [r.windowStart, r.campaign_id, r.ad_id],
    (t, r) => ({
      ...t,
      impressions: t.impressions + r.impressions,
      clicks: t.clicks + r.clicks,
      invalidImpressions: t.invalidImpressions + r.invalidImpressions,
      invalidClicks: t.invalidClicks + r.invalidClicks,
    }),
  );
}

/** Click-through rate = valid clicks / valid impressions; null when there are no impressions. */
export function clickThroughRate(clicks: number, impressions: number): number | null {
  return impressions > 0 ? clicks / impressions : null;
}
