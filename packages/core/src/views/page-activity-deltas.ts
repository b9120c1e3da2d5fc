import type { PageActivityIncrement } from '../heatmap/page-activity.js';
import { sumByKey, type Mutable } from './sum-by-key.js';

/** Sums page activity increments per (page_id, windowStart, metric), sorted by that key. */
export function foldPageActivity(rows: Iterable<PageActivityIncrement>): PageActivityIncrement[] {
  return sumByKey(
    rows,
    (r) => [r.page_id, r.windowStart, ...r.metric],
    (t, r) => {
      (t as Mutable<PageActivityIncrement>).count += r.count;
      return t;
    },
  );
}
