import { ruleHolds } from './evaluate-segment.js';
import type { CompiledSegment, SegmentSet } from './segment-definition.js';
import type { SegmentSubject } from './evaluate-segment.js';

/** A user's membership of one segment (kept in the user's keyed state). */
export interface SegmentMembership {
  /** The segment's id (`SegmentDefinition.id`). */
  readonly id: string;
  readonly name: string;
  /** Time of the event at which the user entered. */
  readonly entered: number;
  /** The definition version that last confirmed the membership. */
  readonly version: number;
}

/** An entry to or exit from a segment (published on `analytics.v1`). */
export interface SegmentTransition {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly change: 'entered' | 'left';
  /** Event time of the change: the user's event, or for a lapse the end of the membership. */
  readonly at: number;
  /** `rule`: the rule became true or false at this event; `lapsed`: no event for the membership TTL; `deleted`: the segment is gone. */
  readonly reason: 'rule' | 'lapsed' | 'deleted';
  /** For exits: when the user had entered. */
  readonly entered: number | null;
}

/** What evaluating the segments at one event of a user did. */
export interface SegmentStep {
  /** Evaluation time: the user's latest event time. */
  readonly at: number;
  /** Every membership after the step lasts until this time without a further event (at + TTL). */
  readonly expiresAt: number;
  /** Until when the memberships that continue were to last before this step (their exits move). */
  readonly previousExpiresAt: number;
  readonly transitions: readonly SegmentTransition[];
  /** The memberships held before and after the step (their expiry moved to `expiresAt`). */
  readonly continuing: readonly SegmentMembership[];
  /** Whether the membership list changed (entries, exits, a new definition version). */
  readonly changed: boolean;
}

/** A user's keyed state as far as segments go. */
export interface SegmentUser extends SegmentSubject {
  readonly maxTs: number | null;
  segments: SegmentMembership[];
}

/** Settings of the evaluation. */
export interface SegmentStepSettings {
  readonly engagementHalfLifeMs: number;
  /** A membership lapses this long after the user's last event (event time). */
  readonly segmentMembershipTtlMs: number;
}

function exitOf(m: SegmentMembership, at: number, reason: SegmentTransition['reason']): SegmentTransition {
  return { id: m.id, name: m.name, version: m.version, change: 'left', at, reason, entered: m.entered };
}

function findSegment(segments: readonly CompiledSegment[], id: string): CompiledSegment | undefined {
  for (const s of segments) if (s.id === id) return s;
  return undefined;
}

/** Whether each segment's rule holds for the user being evaluated (reused: no allocation per event). */
const holdsNow: boolean[] = [];
const noTransitions: readonly SegmentTransition[] = Object.freeze([]);

/** Whether the memberships held are exactly the segments that hold now, at their current versions. */
function unchanged(held: readonly SegmentMembership[], segments: readonly CompiledSegment[]): boolean {
  let j = 0;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as CompiledSegment;
    const m = held[j];
    if (holdsNow[i]) {
      if (m === undefined || m.id !== s.id || m.version !== s.version) return false;
      j++;
    } else if (m !== undefined && m.id === s.id) return false;
  }
  return j === held.length;
}

/**
 * When a user's memberships lapse: `segmentMembershipTtlMs` after their latest event time. A
 * membership is in force at `asOf` while this is after it (the speed layer's step, the batch
 * layer's segment series and the API's profile all ask this one function).
 */
export function membershipsExpireAt(latestEventTs: number, settings: Pick<SegmentStepSettings, 'segmentMembershipTtlMs'>): number {
  return latestEventTs + settings.segmentMembershipTtlMs;
}

/**
 * Evaluates every segment of `set` for a user after one of its events (DESIGN.md "Segments":
 * at each event, as of the user's latest event time), updating `user.segments`. `previousMaxTs`
 * is the user's latest event time before this event (null: its first). A membership lasts until
 * an event makes the rule false, or lapses `segmentMembershipTtlMs` after the user's last event.
 * Returns null when the user has no memberships and enters none; when nothing changes, the step
 * reuses the user's list (one small object per event of a member, nothing else allocated).
 */
export function evaluateSegments(user: SegmentUser, set: SegmentSet, previousMaxTs: number | null, settings: SegmentStepSettings): SegmentStep | null {
  const t = user.maxTs;
  if (t === null) return null;
  const { segments } = set;
  let anyHolds = false;
  for (let i = 0; i < segments.length; i++) anyHolds = (holdsNow[i] = ruleHolds((segments[i] as CompiledSegment).rule, user, t, settings.engagementHalfLifeMs)) || anyHolds;
  const held = user.segments;
  if (held.length === 0 && !anyHolds) return null;
  const expiresAt = membershipsExpireAt(t, settings);
  const previousExpiresAt = membershipsExpireAt(previousMaxTs ?? t, settings);
  const lapsed = previousMaxTs !== null && previousExpiresAt <= t;
  if (!lapsed && unchanged(held, segments)) return { at: t, expiresAt, previousExpiresAt, transitions: noTransitions, continuing: held, changed: false };
  const transitions: SegmentTransition[] = [];
  const continuing: SegmentMembership[] = [];
  const next: SegmentMembership[] = [];
  for (const m of held) {
    if (lapsed) transitions.push(exitOf(m, previousExpiresAt, 'lapsed'));
    else if (findSegment(segments, m.id) === undefined) transitions.push(exitOf(m, t, 'deleted'));
  }
  segments.forEach((s, i) => {
    const was = lapsed ? undefined : held.find((m) => m.id === s.id);
    if (was && holdsNow[i]) {
      const kept = was.version === s.version ? was : { ...was, version: s.version };
      continuing.push(kept);
      next.push(kept);
    } else if (was) {
      transitions.push(exitOf(was, t, 'rule'));
    } else if (holdsNow[i]) {
      transitions.push({ id: s.id, name: s.name, version: s.version, change: 'entered', at: t, reason: 'rule', entered: null });
      next.push({ id: s.id, name: s.name, entered: t, version: s.version });
    }
  });
  user.segments = next;
  return { at: t, expiresAt, previousExpiresAt, transitions, continuing, changed: true };
}

/**
 * The changes one step makes to a segment's size series, by window of event time: `in` counts
 * entries, `out` exits (a membership's lapse is counted ahead, at its expiry, and moved when an
 * event extends it). The size at the end of window W is the sum of `in - out` over windows <= W.
 */
export function forEachSizeDelta(step: SegmentStep, windowMs: number, emit: (id: string, windowStart: number, kind: 'in' | 'out', delta: number) => void): void {
  const w = (ts: number) => Math.floor(ts / windowMs) * windowMs;
  const oldExpiry = w(step.previousExpiresAt);
  const newExpiry = w(step.expiresAt);
  for (const tr of step.transitions) {
    if (tr.change === 'entered') {
      emit(tr.id, w(tr.at), 'in', 1);
      emit(tr.id, newExpiry, 'out', 1);
    } else if (tr.reason !== 'lapsed') {
      emit(tr.id, w(tr.at), 'out', 1);
      emit(tr.id, oldExpiry, 'out', -1);
    }
  }
  if (oldExpiry === newExpiry) return;
  for (const m of step.continuing) {
    emit(m.id, oldExpiry, 'out', -1);
    emit(m.id, newExpiry, 'out', 1);
  }
}
