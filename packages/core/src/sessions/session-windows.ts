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
 */
export function addToSessions(
  sessions: readonly Session[],
  ts: number,
  gapMs: number,
): { sessions: Session[]; change: SessionChange } {
  const hit: Session[] = [];
  const rest: Session[] = [];
  for (const s of sessions) (touches(s, ts, gapMs) ? hit : rest).push(s);
  const after: Session = {
    start: Math.min(ts, ...hit.map((s) => s.start)),
    end: Math.max(ts, ...hit.map((s) => s.end)),
    events: 1 + hit.reduce((n, s) => n + s.events, 0),
  };
  const next = [...rest, after].sort((a, b) => a.start - b.start);
  const first = hit[0];
  const change: SessionChange =
    first === undefined
      ? { kind: 'created', session: after }
      : hit.length === 1
        ? { kind: 'extended', before: first, after }
        : { kind: 'merged', merged: hit, after };
  return { sessions: next, change };
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
