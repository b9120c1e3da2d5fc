import type { EventType } from '@sigflow/events';
import type { InvalidReason } from '../validity/invalid-reason.js';
import type { EventOutcome } from '../processor/event-outcome.js';
import { sortByKey, type ViewSums } from './sum-by-key.js';

/** Invalid events per window, event type and reason (reconciliation: "why do the numbers differ"). */
export interface InvalidTrafficCount {
  readonly windowStart: number;
  readonly type: EventType;
  readonly reason: InvalidReason;
  readonly events: number;
}

/** Invalid events per (windowStart, type, reason). */
export const invalidTrafficSums: ViewSums<InvalidTrafficCount> = {
  key: (r) => [r.windowStart, r.type, r.reason],
  parts: (r, into) => {
    into[0] = r.type;
    into[1] = r.reason;
  },
  partCount: 2,
  create: (r) => ({ windowStart: r.windowStart, type: r.type, reason: r.reason, events: r.events }),
  add: (t, r) => {
    t.events += r.events;
  },
};

/** The invalid-traffic row of an outcome: invalid and not late (late ones stay out of windowed views), else null. */
export function invalidTrafficOf(o: EventOutcome): InvalidTrafficCount | null {
  return o.status === 'invalid' && o.reason !== null && !o.late ? { windowStart: o.windowStart, type: o.type, reason: o.reason, events: 1 } : null;
}

/** InvalidTrafficCount rows already summed per key (each key once), in the invalid-traffic fold's order. */
export function orderInvalidTraffic(rows: readonly InvalidTrafficCount[]): InvalidTrafficCount[] {
  return sortByKey(rows, invalidTrafficSums.key);
}
