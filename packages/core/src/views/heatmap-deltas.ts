import type { HeatmapIncrement } from '../processor/event-outcome.js';
import { sumByKey, type Mutable } from './sum-by-key.js';

/** Sums heatmap increments per (page_id, windowStart, element_id), sorted by that key. */
export function foldHeatmap(rows: Iterable<HeatmapIncrement>): HeatmapIncrement[] {
  return sumByKey(
    rows,
    (r) => [r.page_id, r.windowStart, r.element_id],
    (t, r) => {
      (t as Mutable<HeatmapIncrement>).clicks += r.clicks;
      return t;
    },
  );
}
