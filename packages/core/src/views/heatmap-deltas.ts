import type { HeatmapIncrement } from '../processor/event-outcome.js';
import { sortByKey, sumByKey, type KeyTuple, type Mutable } from './sum-by-key.js';

/** The key foldHeatmap sums HeatmapIncrement rows by. */
const heatmapKey = (r: HeatmapIncrement): KeyTuple => [r.page_id, r.windowStart, r.element_id];

/** Sums heatmap increments per (page_id, windowStart, element_id), sorted by that key. */
export function foldHeatmap(rows: Iterable<HeatmapIncrement>): HeatmapIncrement[] {
  return sumByKey(
    rows,
    heatmapKey,
    (t, r) => {
      (t as Mutable<HeatmapIncrement>).clicks += r.clicks;
      return t;
    },
  );
}

/** HeatmapIncrement rows already summed per key (each key once), in foldHeatmap's order. */
export function orderHeatmap(rows: readonly HeatmapIncrement[]): HeatmapIncrement[] {
  return sortByKey(rows, heatmapKey);
}
