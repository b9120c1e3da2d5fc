/**
 * A user session: events with gaps < sessionGapMs between neighbours (DESIGN.md "Sessions").
 * As in Beam/Flink session windows each event opens the window [ts, ts + gap); windows that
 * overlap merge. So two events exactly `gap` apart are in different sessions.
 */
export interface Session {
  /** ts of the first event. */
  readonly start: number;
  /** ts of the last event (the window itself extends to end + gap). */
  readonly end: number;
  /** Number of events in the session. */
  readonly events: number;
}

/** How adding one event changed a user's sessions. */
export type SessionChange =
  | { readonly kind: 'created'; readonly session: Session }
  /** The event fell into (or next to) one session; `before` and `after` may have equal bounds. */
  | { readonly kind: 'extended'; readonly before: Session; readonly after: Session }
  /** The event bridged two or more sessions (out-of-order arrival) into one. */
  | { readonly kind: 'merged'; readonly merged: readonly Session[]; readonly after: Session };

function touches(session: Session, ts: number, gapMs: number): boolean {
  // The event window [ts, ts+gap) overlaps the session window [start, end+gap).
  return ts < session.end + gapMs && session.start < ts + gapMs;
}

/**
 * Incremental form: adds one event (in any order) to a user's sessions (sorted by start,
 * not overlapping) and returns the new list and what changed. Does not mutate `sessions`.
 * The sessions an event touches are contiguous in the sorted list, so one pass finds them.
 */
export function addToSessions(
  sessions: readonly Session[],
  ts: number,
  gapMs: number,
): { sessions: Session[]; change: SessionChange } {
  const next = [...sessions];
  return { sessions: next, change: addToSessionsInPlace(next, ts, gapMs) };
}

/**
 * {@link addToSessions} that updates `sessions` in place (the keyed state's own list), so the
 * hot path allocates one session per event instead of a new list.
 */
export function addToSessionsInPlace(sessions: Session[], ts: number, gapMs: number): SessionChange {
  let first = -1;
  let hits = 0;
  let insertAt = sessions.length;
  let start = ts;
  let end = ts;
  let events = 1;
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i] as Session;
    if (touches(s, ts, gapMs)) {
      if (first < 0) first = i;
      hits++;
      if (s.start < start) start = s.start;
      if (s.end > end) end = s.end;
      events += s.events;
    } else if (first < 0 && insertAt === sessions.length && s.start > ts) {
      insertAt = i;
    }
  }
  const after: Session = { start, end, events };
  if (hits === 0) {
    sessions.splice(insertAt, 0, after);
    return { kind: 'created', session: after };
  }
  const before = sessions[first] as Session;
  if (hits === 1) {
    sessions[first] = after;
    return { kind: 'extended', before, after };
  }
  const merged = sessions.splice(first, hits, after);
  return { kind: 'merged', merged, after };
}

/** Batch form: the sessions of one user's event times, sorted ascending. Equals folding {@link addToSessions}. */
export function sessionWindows(sortedTs: readonly number[], gapMs: number): Session[] {
  const out: Session[] = [];
  let current: { start: number; end: number; events: number } | null = null;
  for (const ts of sortedTs) {
    if (current !== null && ts < current.end + gapMs) {
      current.end = Math.max(current.end, ts);
      current.events++;
    } else {
      if (current !== null) out.push(current);
      current = { start: ts, end: ts, events: 1 };
    }
  }
  if (current !== null) out.push(current);
  return out;
}
