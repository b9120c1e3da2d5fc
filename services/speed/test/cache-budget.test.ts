// The users a speed process keeps, bounded by its heap budget (hand-computed: the estimate
// starts at 4,096 bytes a user and moves a fifth of the way to each reading of heap / users).
import { describe, expect, it } from 'vitest';
import { CacheBudget, cacheBudgetBytes } from '../src/cache-budget.js';

const MIB = 1024 * 1024;

describe('CacheBudget', () => {
  it('starts from 4 KiB a user, and never passes the configured count', () => {
    expect(new CacheBudget(100 * MIB, 1_000_000, () => 0).users(0, 0)).toBe(25_600); // 104,857,600 / 4,096
    expect(new CacheBudget(100 * MIB, 10, () => 0).users(0, 0)).toBe(10);
  });

  it('moves its estimate towards heap / users, once a second, from 10,000 users on', () => {
    let heap = 200_000_000;
    const budget = new CacheBudget(100 * MIB, 1_000_000, () => heap);
    expect(budget.users(9_999, 0)).toBe(25_600); // too few users to measure
    // 200,000,000 / 20,000 = 10,000 bytes read: 4,096 + 0.2 x 5,904 = 5,276.8; 104,857,600 / 5,276.8 = 19,871.6
    expect(budget.users(20_000, 1_000)).toBe(19_871);
    expect(budget.estimatedBytesPerUser).toBe(5_277);
    expect(budget.users(20_000, 1_500)).toBe(19_871); // within the second: no new reading
    // Again 10,000: 5,276.8 + 0.2 x 4,723.2 = 6,221.44; 104,857,600 / 6,221.44 = 16,854.3
    expect(budget.users(20_000, 2_000)).toBe(16_854);
    // The heap falls (the users it held were dropped and collected): 40,000,000 / 20,000 = 2,000 read.
    heap = 40_000_000;
    // 6,221.44 + 0.2 x (2,000 - 6,221.44) = 5,377.152; 104,857,600 / 5,377.152 = 19,500.6
    expect(budget.users(20_000, 3_000)).toBe(19_500);
  });

  it('keeps to 60 % of the heap limit when the setting asks for more', () => {
    // 1,536 MiB fits a 2,560 MiB limit (0.6 x 2,560 = 1,536 MiB exactly).
    expect(cacheBudgetBytes(1_536, 2_560 * MIB)).toEqual({ bytes: 1_536 * MIB, clamped: false });
    // 2,000 MiB does not: 0.6 x 2,684,354,560 = 1,610,612,736 bytes.
    expect(cacheBudgetBytes(2_000, 2_560 * MIB)).toEqual({ bytes: 1_610_612_736, clamped: true });
  });
});
