import { describe, expect, it } from 'vitest';
import {
  advanceWatermark,
  createPartitionState,
  currentWatermark,
  defaultRuleSettings as settings,
  isLateEvent,
  windowEnd,
  windowStart,
} from '../src/index.js';
import { MINUTE, SECOND, T0, click, conversion, elementClick, impression, outcomeOf, runSpeed } from './helpers.js';

describe('tumbling windows', () => {
  it('are epoch-aligned [start, start + 60 s)', () => {
    expect(windowStart(0, MINUTE)).toBe(0);
    expect(windowStart(59_999, MINUTE)).toBe(0);
    expect(windowStart(60_000, MINUTE)).toBe(60_000);
    expect(windowStart(T0 + 61_234, MINUTE)).toBe(T0 + MINUTE);
    expect(windowEnd(59_999, MINUTE)).toBe(60_000);
  });
});

describe('watermark and lateness', () => {
  it('watermark = max event time seen - 5 s, and never moves back', () => {
    const p = createPartitionState();
    expect(currentWatermark(p, settings)).toBeNull();
    advanceWatermark(p, 100_000);
    advanceWatermark(p, 90_000);
    expect(currentWatermark(p, settings)).toBe(95_000);
  });

  it('late = the window ended MORE than 60 s before the watermark', () => {
    // Window [0, 60 000) ends at 60 000; it is still open while watermark - 60 000 <= 60 000.
    expect(isLateEvent(59_999, 120_000, settings)).toBe(false);
    expect(isLateEvent(0, 120_001, settings)).toBe(true);
    expect(isLateEvent(59_999, 120_001, settings)).toBe(true);
    expect(isLateEvent(60_000, 120_001, settings)).toBe(false); // next window
    expect(isLateEvent(0, null, settings)).toBe(false);
  });

  it('in a partition: on time until an event at windowEnd + 65 s has been seen', () => {
    const run = (maxTs: number) =>
      runSpeed([impression({ id: 'now', ts: maxTs, user: 'other' }), impression({ id: 'old', ts: T0 })]).outcomes;
    expect(outcomeOf(run(T0 + MINUTE + 65 * SECOND), 'old').late).toBe(false);
    expect(outcomeOf(run(T0 + MINUTE + 65 * SECOND + 1), 'old').late).toBe(true);
  });
});

describe('a late event', () => {
  const lateAt = T0 + 10 * MINUTE; // the partition has already seen this
  const { outcomes, users } = runSpeed([
    impression({ id: 'front', ts: lateAt, user: 'other' }),
    impression({ id: 'i-late', ts: T0, ad: 'a1' }),
    elementClick({ id: 'e-late', ts: T0 + 1, page: 'home', element: 'buy' }),
    conversion({ id: 'v-late', ts: T0 + 2, value: 10 }),
    // An on-time click that joins the late impression.
    click({ id: 'k-now', ts: lateAt, ad: 'a1' }),
  ]);

  it('is still a signal, flagged late', () => {
    const o = outcomeOf(outcomes, 'i-late');
    expect(o.late).toBe(true);
    expect(o.signal).toMatchObject({ event_id: 'i-late', late: true, invalid: false });
  });

  it('stays out of window metrics, heatmaps and attribution', () => {
    expect(outcomeOf(outcomes, 'i-late').windowMetric).toBeNull();
    expect(outcomeOf(outcomes, 'e-late').heatmap).toBeNull();
    expect(outcomeOf(outcomes, 'v-late').attribution).toBeNull();
  });

  it('still updates user state: its impression joins a later click, its conversion is counted', () => {
    const k = outcomeOf(outcomes, 'k-now');
    expect(k.late).toBe(false);
    expect(k.join?.impression_event_id).toBe('i-late');
    expect(k.status).toBe('valid');
    expect(users.get('u1')?.conversions).toEqual({ count: 1, value: 10 });
  });
});
