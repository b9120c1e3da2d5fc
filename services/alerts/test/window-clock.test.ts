import { describe, expect, it } from 'vitest';
import { lastClosedWindow, WindowClock } from '../src/window-clock.js';

describe('window close for alerts', () => {
  it('is the slowest moving partition; idle partitions stop holding windows open', () => {
    const clock = new WindowClock(30_000);
    expect(clock.observe([null, null], 0)).toBeNull();
    expect(clock.observe([120_000, 95_000, null], 1_000)).toBe(95_000);
    // Partition 1 does not move for 30 s of wall clock: partition 0 alone decides.
    expect(clock.observe([150_000, 95_000, null], 20_000)).toBe(95_000);
    expect(clock.observe([170_000, 95_000, null], 31_000)).toBe(170_000);
    // It moves again: it holds windows open again, but closed windows stay closed.
    expect(clock.observe([180_000, 100_000, null], 32_000)).toBe(170_000);
    expect(clock.observe([200_000, 175_000, null], 33_000)).toBe(175_000);
  });

  it('every partition idle: the largest watermark (nothing more is coming)', () => {
    const clock = new WindowClock(1_000);
    expect(clock.observe([60_000, 200_000], 0)).toBe(60_000);
    expect(clock.observe([60_000, 200_000], 5_000)).toBe(200_000);
  });

  it('a window [s, s + 60 s) is closed once the watermark reaches its end', () => {
    expect(lastClosedWindow(180_000, 60_000)).toBe(120_000);
    expect(lastClosedWindow(179_999, 60_000)).toBe(60_000);
  });
});
