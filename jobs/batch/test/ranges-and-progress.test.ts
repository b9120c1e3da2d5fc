import { describe, expect, it } from 'vitest';
import { contiguousRanges, progressBar } from '../src/index.js';

const H = 3_600_000;
const T = Date.UTC(2026, 10, 20, 10);

describe('dirty hour ranges and the CLI progress bar', () => {
  it('groups dirty hours into consecutive ranges, and draws a progress bar', () => {
    expect(contiguousRanges([T + 3 * H, T, T + H, T + 5 * H, T + H])).toEqual([
      { from: T, to: T + 2 * H },
      { from: T + 3 * H, to: T + 4 * H },
      { from: T + 5 * H, to: T + 6 * H },
    ]);
    expect(progressBar({ percent: 50, hoursDone: 2, hoursTotal: 4, rowsRead: 1234567 }, 10)).toBe('[#####-----]  50.0%  2/4 hours  1,234,567 rows');
    expect(progressBar(0, 4)).toBe('[----]   0.0%');
  });
});
