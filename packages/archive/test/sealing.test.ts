import { describe, expect, it } from 'vitest';
import { defaultRuleSettings } from '@sigflow/core';
import { archiveSealedThrough, isHourSealed } from '../src/index.js';

const H = 3_600_000;
const T = Date.UTC(2026, 10, 20, 10);

describe('sealing', () => {
  it('the slowest partition, less the watermark delay (5 s) and the allowed lateness (60 s), bounds it', () => {
    const watermarks = new Map([
      [0, T + 2 * H],
      [1, T + H + 10 * 60_000],
    ]);
    // min = T + 1 h 10 min; - 65 s = T + 1 h 8 min 55 s.
    expect(archiveSealedThrough(watermarks, defaultRuleSettings)).toBe(T + H + 8 * 60_000 + 55_000);
    expect(archiveSealedThrough(new Map(), defaultRuleSettings)).toBeNull();
  });

  it('an hour is sealed when its end is at or before the sealed time', () => {
    expect(isHourSealed(T + 30 * 60_000, T + H)).toBe(true); // [10:00, 11:00) ends at 11:00
    expect(isHourSealed(T, T + H - 1)).toBe(false);
    expect(isHourSealed(T, null)).toBe(false);
  });
});
