import { evaluateSegments, forEachSizeDelta, membershipsExpireAt, type SegmentSet, type RuleSettings, type UserState } from '@sigflow/core';
import type { SegmentMember } from '@sigflow/store/segments-alerts';
import { HOUR_MS } from './hour-range.js';

/**
 * What a batch run of the segments collects while the rules stream users through: per segment
 * the entries and exits per window (core's `forEachSizeDelta`, as the speed layer writes them)
 * and the members as of `asOf` (the range's end).
 */
export class SegmentSeries {
  /** segment id -> windowStart -> [entries, exits]. */
  private readonly deltas = new Map<string, Map<number, [number, number]>>();
  readonly members = new Map<string, SegmentMember[]>();
  private userId: string | undefined;
  private user: UserState | undefined;

  constructor(
    private readonly set: SegmentSet,
    private readonly settings: RuleSettings,
    private readonly asOf: number,
  ) {
    for (const s of set.segments) {
      this.deltas.set(s.id, new Map());
      this.members.set(s.id, []);
    }
  }

  private readonly add = (id: string, windowStart: number, kind: 'in' | 'out', delta: number): void => {
    const windows = this.deltas.get(id);
    if (!windows) return; // a membership of a segment not in the set (cannot happen: state starts empty)
    const d = windows.get(windowStart) ?? [0, 0];
    d[kind === 'in' ? 0 : 1] += delta;
    windows.set(windowStart, d);
  };

  /** After each event of `userId` (in user, time order), with its state and its newest event time before. */
  event(userId: string, user: UserState, previousMaxTs: number | null): void {
    if (userId !== this.userId) this.finishUser();
    this.userId = userId;
    this.user = user;
    const step = evaluateSegments(user, this.set, previousMaxTs, this.settings);
    if (step) forEachSizeDelta(step, this.settings.windowMs, this.add);
  }

  /** Records the last user's memberships still in force at `asOf`. */
  finishUser(): void {
    const { userId, user } = this;
    if (userId === undefined || user === undefined || user.maxTs === null) return;
    const expiresAt = membershipsExpireAt(user.maxTs, this.settings);
    if (expiresAt <= this.asOf) return;
    for (const m of user.segments) this.members.get(m.id)?.push({ userId, entered: m.entered, expiresAt });
  }

  /**
   * Each hour of [from, to) of a segment: [windowStart, size at the window's end, entries, exits]
   * for every window, the size summing every entry minus exit up to the window.
   */
  hours(id: string, from: number, to: number): Map<number, [number, number, number, number][]> {
    const windows = this.deltas.get(id) ?? new Map<number, [number, number]>();
    const windowMs = this.settings.windowMs;
    let size = 0;
    for (const [ws, [i, o]] of windows) if (ws < from) size += i - o;
    const hours = new Map<number, [number, number, number, number][]>();
    for (let ws = from; ws < to; ws += windowMs) {
      const [i, o] = windows.get(ws) ?? [0, 0];
      size += i - o;
      const hour = ws - (ws % HOUR_MS);
      const list = hours.get(hour) ?? [];
      list.push([ws, size, i, o]);
      hours.set(hour, list);
    }
    return hours;
  }
}
