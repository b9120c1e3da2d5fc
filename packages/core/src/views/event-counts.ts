import type { EventCount } from '../processor/event-outcome.js';
import { sortByKey, sumRows, type ViewSums } from './sum-by-key.js';

/** Custom events per (windowStart, name, outcome). */
export const eventCountSums: ViewSums<EventCount> = {
  key: (r) => [r.windowStart, r.name, r.outcome],
  parts: (r, into) => {
    into[0] = r.name;
    into[1] = r.outcome;
  },
  partCount: 2,
  create: (r) => ({ windowStart: r.windowStart, name: r.name, outcome: r.outcome, count: r.count }),
  add: (t, r) => {
    t.count += r.count;
  },
};

/** Sums custom event counts per (windowStart, name, outcome), sorted by that key: the view both layers write. */
export function foldEventCounts(rows: Iterable<EventCount>): EventCount[] {
  return sumRows(eventCountSums, rows);
}

/** EventCount rows already summed per key (each key once), in foldEventCounts's order. */
export function orderEventCounts(rows: readonly EventCount[]): EventCount[] {
  return sortByKey(rows, eventCountSums.key);
}
