import { identityTypes, type SigflowEvent } from '@sigflow/events';
import { windowStart as windowOf } from '../windows/tumbling-window.js';
import { advanceWatermark, currentWatermark, isLateEvent } from '../windows/watermark.js';
import type { ProcessContext } from './process-context.js';
import { decideValidity } from './decide-validity.js';
import { updateKeyedState } from './update-keyed-state.js';
import { viewUpdates } from './view-updates.js';
import { signalOf } from './user-signal.js';
import type { EventOutcome } from './event-outcome.js';

export type { ProcessContext } from './process-context.js';

function duplicateOutcome(event: SigflowEvent, windowStart: number): EventOutcome {
  return {
    event_id: event.event_id,
    user_id: event.user_id,
    type: event.type,
    ts: event.ts,
    windowStart,
    status: 'duplicate',
    reason: null,
    late: false,
    signal: null,
    windowMetric: null,
    spend: null,
    join: null,
    attribution: null,
    heatmap: null,
    pageActivity: null,
    eventCount: null,
    session: null,
  };
}

/** Identity records (`identify`, `alias`, `group`) are kept in the profile or archived, never signals. */
const identity: ReadonlySet<string> = new Set(identityTypes);

/** Step 2: late = the event's window closed before the partition's watermark (as it was before this event). */
function checkLateness(ctx: ProcessContext, ts: number): boolean {
  if (!ctx.partition) return false;
  const late = isLateEvent(ts, currentWatermark(ctx.partition, ctx.settings), ctx.settings);
  advanceWatermark(ctx.partition, ts);
  return late;
}

/**
 * Runs one event through every shared rule with the keyed state of its user, IP and partition,
 * and returns what it did: the one execution both layers drive.
 * - speed: per Kafka partition in arrival order, with `ip`, `ipElsewhere` and `partition`;
 * - batch: events sorted by (user_id, ts, event_id), with `ipFlood` from `floodedIpClicks` and
 *   no `partition` (nothing is late). On in-order input both give the same outcomes.
 *
 * Steps: 1. a duplicate changes nothing (not even the watermark); 2. {@link checkLateness};
 * 3. {@link decideValidity}; 4. {@link updateKeyedState} (late events too); 5.
 * {@link viewUpdates} (on-time events only). Late events are still signals, flagged `late`.
 */
export function processEvent(ctx: ProcessContext, event: SigflowEvent): EventOutcome {
  const windowStart = windowOf(event.ts, ctx.settings.windowMs);
  if (ctx.isDuplicate) return duplicateOutcome(event, windowStart);
  const late = checkLateness(ctx, event.ts);
  const { reason, join } = decideValidity(ctx, event);
  const valid = reason === null;
  const session = updateKeyedState(ctx.user, event, valid, ctx.settings, ctx.viewsOnly);
  const views = late ? null : viewUpdates(ctx, event, windowStart, reason);
  return {
    event_id: event.event_id,
    user_id: event.user_id,
    type: event.type,
    ts: event.ts,
    windowStart,
    status: valid ? 'valid' : 'invalid',
    reason,
    late,
    signal: ctx.viewsOnly || identity.has(event.type) ? null : signalOf(event, reason, late, ctx.unchecked === true),
    windowMetric: views ? views.windowMetric : null,
    spend: views ? views.spend : null,
    join,
    attribution: views ? views.attribution : null,
    heatmap: views ? views.heatmap : null,
    pageActivity: views ? views.pageActivity : null,
    eventCount: views ? views.eventCount : null,
    session,
  };
}
