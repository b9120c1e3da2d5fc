import { describe, expect, it } from 'vitest';
import { dayStart, UserDirectory } from '../src/user-directory.js';

const DAY = 86_400_000;
const TTL = 30 * DAY;
const NOW = Date.UTC(2026, 10, 22, 15, 30);

describe('the user directory (which users may have state in Redis)', () => {
  it('on a partition with no commit yet, vouches for new users from the start and records since = 0', () => {
    const directory = new UserDirectory(null, true, NOW, TTL);
    expect(directory.mayHaveState('ann')).toBe(false);
    directory.written('ann');
    expect(directory.mayHaveState('ann')).toBe(true);
    expect(directory.mayHaveState('bob')).toBe(false);
    const taken = directory.take();
    expect(taken.since).toBe('0');
    expect(taken.hashes?.length).toBe(8);
    // Taken once: the next commit appends nothing and records nothing.
    expect(directory.take()).toEqual({ hashes: null, since: null });
  });

  it('on a partition written before the directory existed, reads every user until it covers a whole TTL', () => {
    const started = new UserDirectory(null, false, NOW, TTL);
    expect(started.mayHaveState('ann')).toBe(true);
    expect(started.take().since).toBe(String(NOW));
    // One TTL + a day after `since`, every key older than the directory has expired.
    expect(new UserDirectory(String(NOW), false, NOW + TTL + DAY - 1, TTL).mayHaveState('ann')).toBe(true);
    expect(new UserDirectory(String(NOW), false, NOW + TTL + DAY, TTL).mayHaveState('ann')).toBe(false);
  });

  it("reloads from the buckets of the last TTL + a day of wall-clock days, and tomorrow's (clocks ahead)", () => {
    const days = UserDirectory.days(NOW, TTL);
    expect(days[0]).toBe(dayStart(NOW - TTL - DAY));
    expect(days.at(-1)).toBe(dayStart(NOW) + DAY);
    expect(days).toHaveLength(33);
    const writer = new UserDirectory('0', false, NOW, TTL);
    for (const u of ['ann', 'bob']) writer.written(u);
    const reloaded = new UserDirectory('0', false, NOW, TTL);
    reloaded.load([null, writer.take().hashes]);
    expect(['ann', 'bob', 'cid'].map((u) => reloaded.mayHaveState(u))).toEqual([true, true, false]);
  });
});
