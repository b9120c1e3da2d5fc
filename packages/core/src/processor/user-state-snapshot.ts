import type { RuleSettings } from '../rule-settings.js';
import type { EventKey } from '../ordering/event-order.js';
import type { JoinImpression } from '../join/impression-click-join.js';
import type { Touchpoint } from '../attribution/touchpoint.js';
import type { Session } from '../sessions/session-windows.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { createUserState, type UserState } from './user-state.js';
import { updateKeyedState, type KeyedStateInput } from './update-keyed-state.js';
import type { UserSignal } from './event-outcome.js';
import { DROPPED_SIGNAL_PREFIX } from './user-signal.js';
import { encodeSegmentState, decodeSegmentState } from '../segments/segment-state-codec.js';

/**
 * The durable form of a user's keyed state: a snapshot written every few events, plus the
 * user's signal log, which holds every later event with its verdict. Replaying the signals
 * newer than the snapshot through {@link updateKeyedState} gives the state exactly, so a batch
 * writes a user's state only every `snapshotEvery` signals instead of after every event.
 */
export interface UserSnapshot {
  readonly user: UserState;
  /** Length of the user's signal log when the snapshot was taken. */
  readonly signals: number;
  /** Wall-clock ms when it was written (TTL refreshes). */
  readonly writtenAt: number;
}

type Flat = (string | number)[];

function flatKeys(list: readonly EventKey[]): Flat {
  const out: Flat = [];
  for (const k of list) out.push(k.ts, k.event_id);
  return out;
}

function flatTouchpoints(list: readonly (JoinImpression | Touchpoint)[], withType: boolean): Flat {
  const out: Flat = [];
  for (const t of list) {
    out.push(t.ts, t.event_id, t.campaign_id, t.ad_id, t.channel);
    if (withType) out.push((t as Touchpoint).type === 'click' ? 'c' : 'i');
  }
  return out;
}

/** Encodes a snapshot (compact JSON of flat arrays: no field names per entry). */
export function encodeUserSnapshot(snapshot: UserSnapshot): string {
  const u = snapshot.user;
  const sessions: number[] = [];
  for (const s of u.sessions) sessions.push(s.start, s.end, s.events);
  const last = u.lastTouch;
  return JSON.stringify([
    2,
    snapshot.signals,
    snapshot.writtenAt,
    u.maxTs,
    flatKeys(u.recentClicks),
    flatTouchpoints(u.recentImpressions, false),
    flatTouchpoints(u.path, true),
    sessions,
    [u.engagement.score, u.engagement.asOf],
    last ? [last.ts, last.event_id, last.campaign_id, last.ad_id, last.channel, last.type === 'click' ? 'c' : 'i'] : null,
    [u.conversions.count, u.conversions.value],
    encodeSegmentState(u),
  ]);
}

function chunks<T>(flat: unknown, size: number, make: (at: number, f: unknown[]) => T): T[] {
  if (!Array.isArray(flat) || flat.length % size !== 0) throw new InvalidStateError('user snapshot: malformed list');
  const out: T[] = [];
  for (let i = 0; i < flat.length; i += size) out.push(make(i, flat));
  return out;
}

const touchpointAt = (i: number, f: unknown[]): Touchpoint => ({
  ts: f[i] as number,
  event_id: f[i + 1] as string,
  campaign_id: f[i + 2] as string,
  ad_id: f[i + 3] as string,
  channel: f[i + 4] as string,
  type: f[i + 5] === 'c' ? 'click' : 'impression',
});

/**
 * The join impressions as the rules hold them: an impression that is also in the path is the
 * path's touchpoint object (as `updateKeyedState` shares it), the others touchpoints of their own.
 */
function joinImpressions(flat: unknown, path: readonly Touchpoint[]): Touchpoint[] {
  const inPath = new Map<string, Touchpoint>();
  for (const t of path) if (t.type === 'impression') inPath.set(t.event_id, t);
  return chunks(flat, 5, (i, f): Touchpoint => {
    const event_id = f[i + 1] as string;
    return inPath.get(event_id) ?? { ts: f[i] as number, event_id, campaign_id: f[i + 2] as string, ad_id: f[i + 3] as string, channel: f[i + 4] as string, type: 'impression' };
  });
}

/** Decodes {@link encodeUserSnapshot}; throws {@link InvalidStateError} on anything else. */
export function decodeUserSnapshot(text: string): UserSnapshot {
  const a = JSON.parse(text) as unknown[];
  // 11 entries: written before segments existed (no segment state: it rebuilds from the newer signals).
  if (!Array.isArray(a) || a[0] !== 2 || (a.length !== 11 && a.length !== 12)) throw new InvalidStateError('user snapshot is not a v2 snapshot');
  const [, signals, writtenAt, maxTs, clicks, impressions, path, sessions, engagement, last, conversions, segments] = a as [
    number, number, number, number | null, unknown, unknown, unknown, unknown, [number, number], unknown[] | null, [number, number], unknown,
  ];
  const touchpoints = chunks(path, 6, touchpointAt);
  const user: UserState = {
    ...createUserState(),
    maxTs,
    recentClicks: chunks(clicks, 2, (i, f) => ({ ts: f[i] as number, event_id: f[i + 1] as string })),
    recentImpressions: joinImpressions(impressions, touchpoints),
    path: touchpoints,
    sessions: chunks(sessions, 3, (i, f): Session => ({ start: f[i] as number, end: f[i + 1] as number, events: f[i + 2] as number })),
    engagement: { score: engagement[0], asOf: engagement[1] },
    lastTouch: last ? touchpointAt(0, last) : null,
    conversions: { count: conversions[0], value: conversions[1] },
    ...decodeSegmentState(segments, maxTs),
  };
  return { user, signals, writtenAt };
}

/** A user's state restored from Redis: the snapshot plus the signals written after it. */
export interface RestoredUserState {
  readonly user: UserState;
  /** Length of the signal log now. */
  readonly signals: number;
  /** Signals newer than the snapshot (replayed). */
  readonly sinceSnapshot: number;
  /** When the snapshot was written; 0 when there was none. */
  readonly snapshotAt: number;
  /**
   * False when the log held fewer newer signals than the snapshot says it should (keys lost
   * apart, e.g. deleted by hand): the state is the snapshot plus what was there.
   */
  readonly complete: boolean;
}

/**
 * Rebuilds a user's keyed state from its snapshot (null: none) and its signal log: `logLength`
 * entries, of which `newest` are the first ones (newest first, as stored). The entries newer
 * than the snapshot (logLength - snapshot.signals) are replayed oldest first.
 */
export function restoreUserState(snapshot: string | null, logLength: number, newest: readonly string[], settings: RuleSettings): RestoredUserState {
  const base = snapshot === null ? { user: createUserState(), signals: 0, writtenAt: 0 } : decodeUserSnapshot(snapshot);
  const expected = logLength - base.signals;
  const since = Math.max(0, Math.min(expected, newest.length));
  for (let i = since - 1; i >= 0; i--) {
    const entry = newest[i] as string;
    // A later copy the batch layer dropped: its place in the log counts, its event does not.
    if (entry.startsWith(DROPPED_SIGNAL_PREFIX)) continue;
    const signal = JSON.parse(entry) as UserSignal;
    updateKeyedState(base.user, signal as KeyedStateInput, !signal.invalid, settings);
  }
  return { user: base.user, signals: logLength, sinceSnapshot: since, snapshotAt: base.writtenAt, complete: since === expected };
}
