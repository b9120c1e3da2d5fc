import type { EventKey } from '../ordering/event-order.js';
import type { JoinImpression } from '../join/impression-click-join.js';
import type { Touchpoint } from '../attribution/touchpoint.js';
import type { Session } from '../sessions/session-windows.js';
import { createEngagement, type EngagementState } from '../engagement/engagement-score.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { createSegmentFeatures, type SegmentFeatureState } from '../segments/segment-features.js';
import type { SegmentMembership } from '../segments/segment-memberships.js';

/**
 * The keyed state of one user (plain JSON, bounded by `stateLimits`). Only the user's own
 * events (and the IP flood verdicts of its clicks) change it, so it evolves identically
 * whether the user's events are interleaved with other users' (speed) or not (batch).
 */
export interface UserState {
  /** Schema version of the persisted JSON. */
  readonly v: 1;
  /** Newest event time of the user (any non-duplicate event); prunes the lists below. */
  maxTs: number | null;
  /** (ts, event_id) of the user's recent non-duplicate clicks, valid or not: the flood rule. */
  recentClicks: EventKey[];
  /** Recent valid impressions: the impression-click join (orphan, too_fast). */
  recentImpressions: JoinImpression[];
  /** Valid touchpoints of the attribution lookback, sorted by (ts, event_id). */
  path: Touchpoint[];
  /** Recent sessions of valid events, sorted by start. */
  sessions: Session[];
  /** Engagement of valid events. */
  engagement: EngagementState;
  /** The latest valid touchpoint by (ts, event_id). */
  lastTouch: Touchpoint | null;
  /** Valid conversions: how many, and the sum of their values (currencies are not converted). */
  conversions: { count: number; value: number };
  /** What the segment features read of the user's history (non-duplicate events). */
  segmentFeatures: SegmentFeatureState;
  /** The segments the user is in, by segment id. */
  segments: SegmentMembership[];
}

/**
 * An empty list with room for one item. The first item put into a `[]` (push or splice) makes
 * V8 reserve 17 slots; most users of a stream hold one item per list (a single impression, one
 * session), so their state would be mostly empty slots, copied by every scavenge that keeps it
 * and promoted with it. A list emptied by `pop` keeps its one slot.
 */
function listWithRoomForOne<T>(): T[] {
  const list: T[] = [undefined as T];
  list.pop();
  return list;
}

/**
 * What every user without a conversion or a segment holds, one shared object each: both are
 * replaced when they change, never changed in place (frozen, so a change in place would throw).
 * Most users of a stream never convert nor enter a segment; a cached user is copied by every
 * scavenge that keeps it, so each object less per user is less work for the GC.
 */
const NO_CONVERSIONS = Object.freeze({ count: 0, value: 0 }) as UserState['conversions'];
const NO_SEGMENTS = Object.freeze([]) as unknown as SegmentMembership[];

/**
 * The empty list a new user starts with in each of its lists, shared (frozen): a user seen once
 * fills one or two of its four. {@link ownList} gives the user its own before its first item.
 */
const NO_ITEMS = Object.freeze([]) as unknown as never[];

/** `list`, or a list of the user's own in place of the shared empty one (to put the first item in). */
export function ownList<T>(list: T[]): T[] {
  return list === NO_ITEMS ? listWithRoomForOne<T>() : list;
}

/** A user with no history. */
export function createUserState(): UserState {
  return {
    v: 1,
    maxTs: null,
    recentClicks: NO_ITEMS,
    recentImpressions: NO_ITEMS,
    path: NO_ITEMS,
    sessions: NO_ITEMS,
    engagement: createEngagement(),
    lastTouch: null,
    conversions: NO_CONVERSIONS,
    segmentFeatures: createSegmentFeatures(),
    segments: NO_SEGMENTS,
  };
}

/**
 * Checks state read back from JSON (Redis) and returns it typed. Throws
 * {@link InvalidStateError} when it was written by another schema version or is malformed.
 */
export function parseUserState(value: unknown): UserState {
  const s = value as Partial<UserState> | null;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    s.v === 1 &&
    (s.maxTs === null || typeof s.maxTs === 'number') &&
    [s.recentClicks, s.recentImpressions, s.path, s.sessions].every(Array.isArray) &&
    typeof s.engagement?.score === 'number' &&
    typeof s.engagement.asOf === 'number' &&
    typeof s.conversions?.count === 'number' &&
    typeof s.segmentFeatures?.times === 'object' &&
    Array.isArray(s.segments) &&
    (s.lastTouch === null || typeof s.lastTouch === 'object');
  if (!ok) throw new InvalidStateError('user state is not a v1 UserState');
  return s as UserState;
}
