import type { EventType } from '@sigflow/events';
import type { InvalidReason } from '../validity/invalid-reason.js';
import type { EventOutcome } from '../processor/event-outcome.js';
import { sumByKey, type Mutable } from './sum-by-key.js';

/** Invalid events per window, event type and reason (reconciliation: "why do the numbers differ"). */
export interface InvalidTrafficCount {
  readonly windowStart: number;
  readonly type: EventType;
  readonly reason: InvalidReason;
  readonly events: number;
}

/** Counts the invalid, non-late events of `outcomes` (late ones stay out of windowed views). */
export function foldInvalidTraffic(outcomes: Iterable<EventOutcome>): InvalidTrafficCount[] {
  const rows: InvalidTrafficCount[] = [];
  for (const o of outcomes) {
    if (o.status === 'invalid' && o.reason !== null && !o.late) {
      rows.push({ windowStart: o.windowStart, type: o.type, reason: o.reason, events: 1 });
    }
  }
  return sumByKey(
    rows,
    (r) => [r.windowStart, r.type, r.reason],
    (t, r) => {
      (t as Mutable<InvalidTrafficCount>).events += r.events;
      return t;
    },
  );
}
