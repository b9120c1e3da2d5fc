import { describe, expect, it } from 'vitest';
import { type Session } from '../src/index.js';
import { addToSessions, sessionWindows } from '../src/sessions/session-windows.js';
import { MINUTE, seededRandom, shuffle } from './helpers.js';

const GAP = 30 * MINUTE;

function fold(ts: readonly number[]): Session[] {
  let sessions: Session[] = [];
  for (const t of ts) sessions = addToSessions(sessions, t, GAP).sessions;
  return sessions;
}

describe('session windows', () => {
  it('a gap of exactly 30 min closes a session; 30 min - 1 ms does not', () => {
    expect(sessionWindows([0, 30 * MINUTE], GAP)).toHaveLength(2);
    expect(fold([0, 30 * MINUTE])).toHaveLength(2); // incremental, in order
    expect(fold([30 * MINUTE, 0])).toHaveLength(2); // and out of order
    expect(fold([30 * MINUTE - 1, 0])).toHaveLength(1);
    expect(sessionWindows([0, 30 * MINUTE - 1], GAP)).toEqual([{ start: 0, end: 30 * MINUTE - 1, events: 2 }]);
  });

  it('an out-of-order event bridging two sessions merges them', () => {
    let sessions = addToSessions([], 0, GAP).sessions;
    sessions = addToSessions(sessions, 40 * MINUTE, GAP).sessions;
    expect(sessions).toHaveLength(2);
    const { sessions: merged, change } = addToSessions(sessions, 20 * MINUTE, GAP);
    expect(change).toEqual({
      kind: 'merged',
      merged: [
        { start: 0, end: 0, events: 1 },
        { start: 40 * MINUTE, end: 40 * MINUTE, events: 1 },
      ],
      after: { start: 0, end: 40 * MINUTE, events: 3 },
    });
    expect(merged).toEqual([{ start: 0, end: 40 * MINUTE, events: 3 }]);
  });

  it('reports created and extended sessions', () => {
    const first = addToSessions([], 0, GAP);
    expect(first.change.kind).toBe('created');
    const second = addToSessions(first.sessions, 10 * MINUTE, GAP);
    expect(second.change).toEqual({
      kind: 'extended',
      before: { start: 0, end: 0, events: 1 },
      after: { start: 0, end: 10 * MINUTE, events: 2 },
    });
  });

  it('incremental in any arrival order == batch over the sorted times', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 50; round++) {
      const ts: number[] = [];
      let t = 0;
      for (let i = 0; i < 30; i++) {
        t += Math.floor(random() * (random() < 0.2 ? 90 : 25) * MINUTE);
        ts.push(t);
      }
      const shuffled = shuffle(ts, random);
      expect(fold(shuffled)).toEqual(sessionWindows(ts, GAP));
    }
  });
});
