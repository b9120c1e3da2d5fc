import type { WindowMetrics } from '../processor/event-outcome.js';
import { sumByKey, type Mutable } from './sum-by-key.js';

/**
 * Sums window metric rows (outcome increments, or already folded rows) per
 * (windowStart, campaign_id, ad_id), sorted by that key. Re-folding folded rows is a no-op,
 * so deltas of several batches can be folded together.
 */
export function foldWindowMetrics(rows: Iterable<WindowMetrics>): WindowMetrics[] {
  return sumByKey(
    rows,
    (r) => [r.windowStart, r.campaign_id, r.ad_id],
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

/** Click-through rate = valid clicks / valid impressions; null when there are no impressions. */
export function clickThroughRate(clicks: number, impressions: number): number | null {
  return impressions > 0 ? clicks / impressions : null;
}
