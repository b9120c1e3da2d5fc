// The users a speed process keeps, bounded by its heap budget (hand-computed: the estimate
// starts at 4,096 bytes a user and moves half the way to each new reading of the old
// generation's growth / users).
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CacheBudget, cacheBudgetBytes, liveOldGeneration, type LiveReading } from '../src/cache-budget.js';

const MIB = 1024 * 1024;

describe('CacheBudget', () => {
  it('starts from 4 KiB a user, and never passes the configured count', () => {
    expect(new CacheBudget(100 * MIB, 1_000_000, () => undefined, 0).users(0)).toBe(25_600); // 104,857,600 / 4,096
    expect(new CacheBudget(100 * MIB, 10, () => undefined, 0).users(0)).toBe(10);
  });

  it("moves its estimate towards the old generation's growth / users, once a collection, from 1,000 users on", () => {
    let live: LiveReading | undefined = { bytes: 90_000_000, seq: 1 };
    const budget = new CacheBudget(100 * MIB, 1_000_000, () => live, 50_000_000);
    expect(budget.users(999)).toBe(25_600); // too few users to measure
    // (90,000,000 - 50,000,000) / 20,000 = 2,000 bytes read: 4,096 + 0.5 x (2,000 - 4,096) = 3,048; 104,857,600 / 3,048 = 34,402.4
    expect(budget.users(20_000)).toBe(34_402);
    expect(budget.estimatedBytesPerUser).toBe(3_048);
    expect(budget.users(10_000)).toBe(34_402); // the same collection's reading: no change
    // (150,000,000 - 50,000,000) / 20,000 = 5,000: 3,048 + 0.5 x 1,952 = 4,024; 104,857,600 / 4,024 = 26,058.0
    live = { bytes: 150_000_000, seq: 2 };
    expect(budget.users(20_000)).toBe(26_058);
    // Below the start (what was garbage then is collected now): 256 bytes at least, 4,024 + 0.5 x (256 - 4,024) = 2,140
    live = { bytes: 40_000_000, seq: 3 };
    expect(budget.users(20_000)).toBe(48_998); // 104,857,600 / 2,140 = 48,998.9
  });

  it('reads the old generation after a full collection of the process', async () => {
    const before = liveOldGeneration()?.seq ?? 0;
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reading = liveOldGeneration();
    expect(reading?.seq).toBeGreaterThan(before);
    expect(reading?.bytes).toBeGreaterThan(1 * MIB);
  });

  it('keeps to 60 % of the heap limit when the setting asks for more', () => {
    // 1,536 MiB fits a 2,560 MiB limit (0.6 x 2,560 = 1,536 MiB exactly).
    expect(cacheBudgetBytes(1_536, 2_560 * MIB)).toEqual({ bytes: 1_536 * MIB, clamped: false });
    // 2,000 MiB does not: 0.6 x 2,684,354,560 = 1,610,612,736 bytes.
    expect(cacheBudgetBytes(2_000, 2_560 * MIB)).toEqual({ bytes: 1_610_612_736, clamped: true });
  });
});
