import type { PageActivityIncrement, PageActivityMetric } from '../heatmap/page-activity.js';
import { sortByKey, sumRows, type ViewSums } from './sum-by-key.js';

/**
 * The parts of a page activity metric after its kind, as one value: none (view), the scroll
 * milestone, `form_id NUL action`, or the mouse cell packed into one number (cells are small
 * non-negative integers, packed below 2^28: a small integer that V8 hashes without allocating;
 * others fall back to `cx NUL cy`, a string, never equal to a number).
 */
function metricDetail(metric: PageActivityMetric): unknown {
  switch (metric[0]) {
    case 'view':
      return undefined;
    case 'scroll':
      return metric[1];
    case 'form':
      return `${metric[1]}\u0000${metric[2]}`;
    case 'mouse': {
      const [, cx, cy] = metric;
      const small = (n: number) => Number.isInteger(n) && n >= 0 && n < 2 ** 14;
      return small(cx) && small(cy) ? cx * 2 ** 14 + cy : `${cx}\u0000${cy}`;
    }
  }
}

/** Page activity per (page_id, windowStart, metric). */
export const pageActivitySums: ViewSums<PageActivityIncrement> = {
  key: (r) => [r.page_id, r.windowStart, ...r.metric],
  parts: (r, into) => {
    into[0] = r.page_id;
    into[1] = r.metric[0];
    into[2] = metricDetail(r.metric);
  },
  partCount: 3,
  create: (r) => ({ page_id: r.page_id, windowStart: r.windowStart, metric: r.metric, count: r.count }),
  add: (t, r) => {
    t.count += r.count;
  },
};

/** Sums page activity increments per (page_id, windowStart, metric), sorted by that key. */
export function foldPageActivity(rows: Iterable<PageActivityIncrement>): PageActivityIncrement[] {
  return sumRows(pageActivitySums, rows);
}

/** PageActivityIncrement rows already summed per key (each key once), in foldPageActivity's order. */
export function orderPageActivity(rows: readonly PageActivityIncrement[]): PageActivityIncrement[] {
  return sortByKey(rows, pageActivitySums.key);
}
