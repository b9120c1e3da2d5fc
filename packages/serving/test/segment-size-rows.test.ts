import { describe, expect, it } from 'vitest';
import type { SegmentSizeWindow } from '@sigflow/store/segments-alerts';
import { segmentSizeRows } from '../src/index.js';

const M = 60_000;
const H = 60 * M;
const T = Date.UTC(2026, 0, 5, 10, 0, 0);
const w = (minute: number, size: number, entered: number, left: number, source: 'speed' | 'batch' = 'speed'): SegmentSizeWindow => ({ windowStart: T + minute * M, size, entered, left, source });

describe('segment sizes by bucket', () => {
  const windows = [w(0, 3, 3, 0, 'batch'), w(1, 5, 2, 0, 'batch'), w(59, 4, 0, 1, 'batch'), w(60, 6, 3, 1), w(61, 2, 0, 4)];

  it('per minute: each window as it is', () => {
    expect(segmentSizeRows(windows, 'minute', M, { from: T, to: T + 2 * H }).map((r) => [r.start - T, r.end - T, r.size, r.entered, r.left, r.source])).toEqual([
      [0, M, 3, 3, 0, 'batch'],
      [M, 2 * M, 5, 2, 0, 'batch'],
      [59 * M, 60 * M, 4, 0, 1, 'batch'],
      [60 * M, 61 * M, 6, 3, 1, 'speed'],
      [61 * M, 62 * M, 2, 0, 4, 'speed'],
    ]);
  });

  it('per hour: the size at the last window, entries and exits summed', () => {
    expect(segmentSizeRows(windows, 'hour', M, { from: T, to: T + 2 * H }).map((r) => [r.start - T, r.size, r.entered, r.left, r.source])).toEqual([
      [0, 4, 5, 1, 'batch'],
      [H, 2, 3, 5, 'speed'],
    ]);
  });

  it('per day: a bucket with both layers is mixed', () => {
    expect(segmentSizeRows(windows, 'day', M, { from: T, to: T + 2 * H })).toEqual([{ start: Date.UTC(2026, 0, 5), end: Date.UTC(2026, 0, 6), size: 2, entered: 8, left: 6, source: 'mixed' }]);
  });
});
