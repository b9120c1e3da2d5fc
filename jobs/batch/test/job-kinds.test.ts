import { describe, expect, it } from 'vitest';
import { contiguousRanges, InvalidJobDataError, parseJobRequest, parseTime, progressBar } from '../src/index.js';

const H = 3_600_000;
const T = Date.UTC(2026, 10, 20, 10);

describe('job data validation', () => {
  it('accepts ISO times without seconds and ms, and widens ranges to whole hours', () => {
    expect(parseJobRequest('recompute', { from: '2026-11-20T10:00Z', to: '2026-11-20T14:00Z' })).toEqual({ kind: 'recompute', from: T, to: T + 4 * H });
    expect(parseJobRequest('recompute', { from: T + 60_000, to: String(T + H + 1) })).toEqual({ kind: 'recompute', from: T, to: T + 2 * H });
    expect(parseJobRequest('reconcile', { from: '2026-11-20T11:00+01:00', to: '2026-11-20T11:30Z' })).toEqual({ kind: 'reconcile', from: T, to: T + 2 * H });
    expect(parseJobRequest('recompute-dirty', undefined)).toEqual({ kind: 'recompute-dirty' });
    expect(parseJobRequest('train-attribution', {})).toEqual({ kind: 'train-attribution' });
    expect(parseJobRequest('compact', { hour: '2026-11-20T10:30Z' })).toEqual({ kind: 'compact', hour: T, force: false });
    expect(parseTime('2026-11-20T10:00:00.000Z', 'x')).toBe(T);
  });

  it('rejects malformed data with a message that names the field', () => {
    const bad: [string, unknown, RegExp][] = [
      ['recompute', { from: 'yesterday', to: T }, /recompute\.from must be an ISO time/],
      ['recompute', { from: T }, /needs from and to/],
      ['recompute', { from: T + H, to: T }, /from must be before to/],
      ['recompute', { from: T, to: T + 400 * 24 * H }, /longer than 366 days/],
      ['recompute', { from: T, to: T + H, hours: 3 }, /unknown field hours/],
      ['recompute', [T, T + H], /must be an object/],
      ['recompute-dirty', { from: T }, /unknown field from/],
      ['compact', { hour: T, force: 'yes' }, /force must be a boolean/],
      ['compact', {}, /needs hour/],
      ['reprocess', {}, /unknown job kind "reprocess"/],
    ];
    for (const [name, data, message] of bad) {
      expect(() => parseJobRequest(name, data)).toThrow(InvalidJobDataError);
      expect(() => parseJobRequest(name, data)).toThrow(message);
    }
  });

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
