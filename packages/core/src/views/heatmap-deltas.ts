import type { HeatmapIncrement } from '../processor/event-outcome.js';
import { sortByKey, sumRows, type ViewSums } from './sum-by-key.js';

/** Element clicks per (page_id, windowStart, element_id). */
export const heatmapSums: ViewSums<HeatmapIncrement> = {
  key: (r) => [r.page_id, r.windowStart, r.element_id],
  parts: (r, into) => {
    into[0] = r.page_id;
    into[1] = r.element_id;
  },
  partCount: 2,
  create: (r) => ({ page_id: r.page_id, windowStart: r.windowStart, element_id: r.element_id, clicks: r.clicks }),
  add: (t, r) => {
    t.clicks += r.clicks;
  },
};

/** Sums heatmap increments per (page_id, windowStart, element_id), sorted by that key. */
export function foldHeatmap(rows: Iterable<HeatmapIncrement>): HeatmapIncrement[] {
  return sumRows(heatmapSums, rows);
}

/** HeatmapIncrement rows already summed per key (each key once), in foldHeatmap's order. */
export function orderHeatmap(rows: readonly HeatmapIncrement[]): HeatmapIncrement[] {
  return sortByKey(rows, heatmapSums.key);
}
