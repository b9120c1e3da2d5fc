import { describe, expect, it } from 'vitest';
import { createIpState, type IpState } from '@sigflow/core';
import { PartitionCache } from '../src/partition-cache.js';
import { UserDirectory } from '../src/user-directory.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

const clickedAt = (ts: number): IpState => ({ v: 1, maxTs: ts, recentClicks: [{ ts, event_id: `e-${ts}` }] });

function cacheWith(ips: Record<string, IpState>): PartitionCache {
  const cache = new PartitionCache(0, null, undefined, HOUR, new UserDirectory('0', true, T0, 30 * 24 * HOUR));
  for (const [ip, state] of Object.entries(ips)) cache.ips.set(ip, state);
  return cache;
}

// IP states are memory of the flood rule: one a partition clicked from lately is needed, one
// whose clicks left the window is not, and one with no click here (loaded because the IP clicked
// in another partition this process owns) reads back from Redis as the same empty state.
describe('the IP states a partition keeps in memory', () => {
  const keepFrom = T0 - 60_000;
  const none = { users: new Map<string, unknown>(), ips: new Set<string>() };

  it('keeps the IPs that clicked within the window and drops the rest at a sweep, clickless ones too', () => {
    const cache = cacheWith({ recent: clickedAt(T0 - 1_000), old: clickedAt(T0 - 120_000), clickless: createIpState() });
    cache.trim(1_000, keepFrom, none, T0);
    expect([...cache.ips.keys()]).toEqual(['recent']);
  });

  it('keeps what a commit not yet applied writes, clickless or old', () => {
    const cache = cacheWith({ old: clickedAt(T0 - 120_000), clickless: createIpState(), other: createIpState() });
    cache.trim(1_000, keepFrom, { users: new Map(), ips: new Set(['old', 'clickless']) }, T0);
    expect([...cache.ips.keys()].sort()).toEqual(['clickless', 'old']);
  });

  it('sweeps at most once a second of wall clock, and not before the partition has a watermark', () => {
    const cache = cacheWith({ clickless: createIpState() });
    cache.trim(1_000, null, none, T0);
    expect(cache.ips.size).toBe(1);
    cache.trim(1_000, keepFrom, none, T0);
    expect(cache.ips.size).toBe(0);
    cache.ips.set('later', createIpState());
    cache.trim(1_000, keepFrom, none, T0 + PartitionCache.ipSweepEveryMs - 1);
    expect(cache.ips.size).toBe(1);
    cache.trim(1_000, keepFrom, none, T0 + PartitionCache.ipSweepEveryMs);
    expect(cache.ips.size).toBe(0);
  });
});
