import type { PageActivityIncrement } from '../heatmap/page-activity.js';
import { sortByKey, sumByKey, type KeyTuple, type Mutable } from './sum-by-key.js';

/** The key foldPageActivity sums PageActivityIncrement rows by. */
const pageActivityKey = (r: PageActivityIncrement): KeyTuple => [r.page_id, r.windowStart, ...r.metric];

/** Sums page activity increments per (page_id, windowStart, metric), sorted by that key. */
export function foldPageActivity(rows: Iterable<PageActivityIncrement>): PageActivityIncrement[] {
  return sumByKey(
    rows,
    pageActivityKey,
    (t, r) => {
      (t as Mutable<PageActivityIncrement>).count += r.count;
      return t;
    },
  );
}

/** PageActivityIncrement rows already summed per key (each key once), in foldPageActivity's order. */
export function orderPageActivity(rows: readonly PageActivityIncrement[]): PageActivityIncrement[] {
  return sortByKey(rows, pageActivityKey);
}
