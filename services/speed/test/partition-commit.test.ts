import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createUserState, defaultRuleSettings as settings, hourStart } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import { field, StoreKeys } from '@sigflow/store';
import type { RedisCommand } from '@sigflow/store/views';
import { RoundChanges } from '../src/round-changes.js';
import { collectRoundChanges } from '../src/round-rules.js';
import type { PartitionMessage } from '../src/round-types.js';
import { buildPartitionCommit } from '../src/partition-commit.js';
import { PartitionCache } from '../src/partition-cache.js';
import { dayStart, UserDirectory } from '../src/user-directory.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const keys = new StoreKeys('t');
const speed = loadConfig({ SIGFLOW_SPEED_SNAPSHOT_EVERY: '4' }).speed;
const tp = { campaign_id: 'c1', ad_id: 'a1', channel: 'search' } as const;

function cacheFor(users: string[]): PartitionCache {
  const cache = new PartitionCache(2, '100', undefined, settings.dedupeHorizonMs, new UserDirectory('0', false, 1_000, speed.userTtlMs));
  for (const u of users) cache.users.set(u, { user: createUserState(), signals: 0, sinceSnapshot: 0, hasSnapshot: false, ttlAt: 0 });
  cache.dedupe.load(hourStart(T0), null);
  return cache;
}

function messages(events: ReceivedEvent[]): PartitionMessage[] {
  return events.map((event, i) => ({ offset: 100 + i, event }));
}

const impressionOf = (id: string, user: string, ts: number): ReceivedEvent => ({ event_id: id, type: 'impression', user_id: user, ts, ...tp, user_agent: UA, received_at: ts });
const clickOf = (id: string, user: string, ts: number): ReceivedEvent => ({ event_id: id, type: 'click', user_id: user, ts, ...tp, user_agent: UA, received_at: ts });

/** One partition's messages through the rules, as a round of that partition alone. */
function partChanges(cache: PartitionCache, batch: PartitionMessage[]): RoundChanges {
  const changes = new RoundChanges();
  collectRoundChanges({ settings, shapley: null }, [{ cache, messages: batch, changes }], [cache], new Map());
  return changes;
}

function commandsNamed(commands: RedisCommand[], name: string): RedisCommand[] {
  return commands.filter((c) => c[0] === name);
}

describe('a partition batch commit (no Kafka, no Redis)', () => {
  const events = [
    impressionOf('i1', 'ann', T0),
    impressionOf('i2', 'ann', T0 + 10_000),
    clickOf('k1', 'ann', T0 + 12_000),
    impressionOf('i3', 'bob', T0 + 20_000),
    clickOf('k1', 'ann', T0 + 12_000), // a copy
    impressionOf('i4', 'ann', T0 + 30_000),
  ];
  const cache = cacheFor(['ann', 'bob']);
  const changes = partChanges(cache, messages(events));
  const commands = buildPartitionCommit({ keys, settings, speed, now: 1_000 }, cache, changes);

  it("lists the users whose keys' TTL it set in today's directory bucket, which outlives them by a day", () => {
    const bucket = keys.knownUsers(2, dayStart(1_000));
    const appended = commandsNamed(commands, 'APPEND').filter((c) => c[1] === bucket);
    expect(appended).toHaveLength(1);
    // ann and bob are new (no TTL set yet): 8 bytes each; a reloaded directory knows them.
    expect((appended[0]?.[2] as Buffer).length).toBe(16);
    const reloaded = new UserDirectory('0', false, 1_000, speed.userTtlMs);
    reloaded.load([appended[0]?.[2] as Buffer]);
    expect([reloaded.mayHaveState('ann'), reloaded.mayHaveState('bob'), reloaded.mayHaveState('cid')]).toEqual([true, true, false]);
    // The bucket's TTL (a day over the users'), stretched by the eighth of it that passes before a commit sets it again.
    const bucketTtl = speed.userTtlMs + 86_400_000;
    expect(commands).toContainEqual(['PEXPIRE', bucket, String(bucketTtl + bucketTtl / 8)]);
  });

  it('writes every view field once, with the batch folded', () => {
    const metrics = keys.speedMetrics(2, 'c1', hourStart(T0));
    const increments = commandsNamed(commands, 'HINCRBY').filter((c) => c[1] === metrics);
    expect(increments).toEqual([
      ['HINCRBY', metrics, field(T0, 'a1', 'impressions'), 4],
      ['HINCRBY', metrics, field(T0, 'a1', 'clicks'), 1],
    ]);
  });

  it('writes channel spend in the partition keyspace: the cost of valid touchpoints, of invalid ones apart, valid clicks', () => {
    const cache2 = cacheFor(['cy', 'dee']);
    const priced = [
      { ...impressionOf('p1', 'cy', T0 + 1_000), cost: 2_000 },
      { ...clickOf('p2', 'cy', T0 + 9_000), cost: 700_000 },
      { ...clickOf('p3', 'dee', T0 + 9_500), cost: 650_000 }, // no impression of dee: an orphan
    ];
    const written = buildPartitionCommit({ keys, settings, speed, now: 1_000 }, cache2, partChanges(cache2, messages(priced)));
    const spend = keys.speedSpend(2, 'c1', hourStart(T0));
    expect(spend).toContain('{p2}');
    expect(commandsNamed(written, 'HINCRBY').filter((c) => c[1] === spend)).toEqual([
      ['HINCRBY', spend, field(T0, 'search', 'spend'), 702_000],
      ['HINCRBY', spend, field(T0, 'search', 'invalid_spend'), 650_000],
      ['HINCRBY', spend, field(T0, 'search', 'clicks'), 1],
    ]);
    expect(written).toContainEqual(['EXPIRE', spend, (speed.viewTtlMs * 9) / 8 / 1000]);
  });

  describe("when the partition's commits write the same keys again", () => {
    const view = (space: RedisCommand[]) => commandsNamed(space, 'EXPIRE').map((c) => c[1]);
    const own = cacheFor(['ann']);
    const later = (now: number, id: string) => {
      const changes2 = partChanges(own, messages([impressionOf(id, 'ann', T0 + 40_000)]));
      return buildPartitionCommit({ keys, settings, speed, now }, own, changes2);
    };
    const metrics = keys.speedMetrics(2, 'c1', hourStart(T0));

    it("sets a key's TTL once, then again only after an eighth of it (a rebuilt cache at once)", () => {
      expect(view(later(1_000, 'i4'))).toContain(metrics);
      // The same keys a little later: no EXPIRE, the increments still go.
      const soon = later(1_000 + speed.viewTtlMs / 8 - 1, 'i5');
      expect(view(soon)).toEqual([]);
      expect(commandsNamed(soon, 'HINCRBY').filter((c) => c[1] === metrics)).toHaveLength(1);
      // An eighth of the TTL after it was set: due again, with the TTL from now.
      expect(commandsNamed(later(1_000 + speed.viewTtlMs / 8, 'i6'), 'EXPIRE')).toContainEqual(['EXPIRE', metrics, (speed.viewTtlMs * 9) / 8 / 1000]);
      // A cache rebuilt from Redis (after a failed commit, a reassignment) remembers nothing.
      const rebuilt = cacheFor(['ann']);
      const first = buildPartitionCommit({ keys, settings, speed, now: 2_000 }, rebuilt, partChanges(rebuilt, messages([impressionOf('i7', 'ann', T0 + 50_000)])));
      expect(view(first)).toContain(metrics);
    });
  });

  it('pushes each user signals with one LPUSH, and snapshots the user whose log reached snapshotEvery', () => {
    const pushes = commandsNamed(commands, 'LPUSH');
    expect(pushes.map((c) => [c[1], c.length - 2])).toEqual([
      [keys.signals(2, 'ann'), 4],
      [keys.signals(2, 'bob'), 1],
    ]);
    // ann has 4 signals = snapshotEvery: a snapshot with her state; bob gets a TTL on his log only.
    const sets = commandsNamed(commands, 'SET').filter((c) => String(c[1]).includes(':user:'));
    expect(sets.map((c) => c[1])).toEqual([keys.userSnapshot(2, 'ann')]);
    expect(JSON.parse(String(sets[0]![2]))[1]).toBe(4);
    expect(commandsNamed(commands, 'PEXPIRE').map((c) => c[1])).toContain(keys.signals(2, 'bob'));
    expect(cache.users.get('ann')).toMatchObject({ signals: 4, sinceSnapshot: 0, hasSnapshot: true, ttlAt: 1_000 });
    expect(cache.users.get('bob')).toMatchObject({ signals: 1, sinceSnapshot: 1, hasSnapshot: false, ttlAt: 1_000 });
  });

  it('lists the batch users as recently seen, scored by the commit clock, trimmed to speed.recentUsers', () => {
    const key = keys.recentUsers(2);
    expect(commandsNamed(commands, 'ZADD')).toEqual([['ZADD', key, 1_000, 'ann', 1_000, 'bob']]);
    expect(commandsNamed(commands, 'ZREMRANGEBYRANK')).toEqual([['ZREMRANGEBYRANK', key, 0, -(speed.recentUsers + 1)]]);
    const none = buildPartitionCommit({ keys, settings, speed: { ...speed, recentUsers: 0 }, now: 1_000 }, cacheFor([]), new RoundChanges());
    expect(commandsNamed(none, 'ZADD')).toEqual([]);
  });

  it('sends only the batch\'s last speed.recentUsers users (the others could not stay)', () => {
    const cache = cacheFor(['u1', 'u2', 'u3']);
    const changes = new RoundChanges();
    for (const user of ['u1', 'u2', 'u3']) changes.signals.set(user, { cached: cache.users.get(user)!, entries: [] });
    const one = buildPartitionCommit({ keys, settings, speed: { ...speed, recentUsers: 2 }, now: 5 }, cache, changes);
    expect(commandsNamed(one, 'ZADD')).toEqual([['ZADD', keys.recentUsers(2), 5, 'u2', 5, 'u3']]);
  });

  it('appends 8 bytes per new event id to the dedupe bucket, and counts the copy as a duplicate', () => {
    const appends = commandsNamed(commands, 'APPEND').filter((c) => c[1] !== keys.knownUsers(2, dayStart(1_000)));
    expect(appends.map((c) => [c[1], (c[2] as Buffer).length])).toEqual([[keys.seenEvents(2, hourStart(T0)), 5 * 8]]);
    const counters = commandsNamed(commands, 'HINCRBY').filter((c) => c[1] === keys.speedCounters(2));
    expect(counters).toEqual(
      expect.arrayContaining([
        ['HINCRBY', keys.speedCounters(2), 'events', 5],
        ['HINCRBY', keys.speedCounters(2), 'duplicates', 1],
      ]),
    );
    expect(commandsNamed(commands, 'HINCRBY')).toContainEqual(['HINCRBY', keys.speedQuality(2, hourStart(T0)), field('c1', 'duplicates'), 1]);
  });

  it('keeps every key of the commit in the partition hash slot', () => {
    const tags = new Set(commands.map((c) => /\{[^}]*\}/.exec(String(c[1]))?.[0]));
    expect([...tags]).toEqual(['{p2}']);
  });

  it('a round over two partitions counts an IP\'s clicks in both in event-time order (the IP flood)', () => {
    const p0 = new PartitionCache(0, null, undefined, settings.dedupeHorizonMs, new UserDirectory(null, true, T0, speed.userTtlMs));
    const p1 = new PartitionCache(1, null, undefined, settings.dedupeHorizonMs, new UserDirectory(null, true, T0, speed.userTtlMs));
    const nat = '203.0.113.9';
    const parts = [p0, p1].map((cache) => ({ cache, messages: [] as PartitionMessage[], changes: new RoundChanges() }));
    // 12 users behind one IP, alternating partitions; each has an impression, then a click 2 s later.
    for (let i = 0; i < 12; i++) {
      const user = `nat-${i}`;
      const part = parts[i % 2]!;
      part.cache.users.set(user, { user: createUserState(), signals: 0, sinceSnapshot: 0, hasSnapshot: false, ttlAt: 0 });
      part.cache.dedupe.load(hourStart(T0), null);
      const ts = T0 + i * 1_000;
      part.messages.push({ offset: part.messages.length, event: { ...impressionOf(`i${i}`, user, ts), ip: nat } });
      part.messages.push({ offset: part.messages.length, event: { ...clickOf(`k${String(i).padStart(2, '0')}`, user, ts + 2_000), ip: nat } });
    }
    for (const part of parts) part.cache.ips.set(nat, { v: 1, maxTs: null, recentClicks: [] });
    collectRoundChanges({ settings, shapley: null }, parts, [p0, p1], new Map());
    const signals = parts.flatMap((p) => [...p.changes.signals.values()].flatMap((s) => s.entries.map((e) => JSON.parse(e) as { event_id: string; reason: string | null })));
    const floods = signals.filter((s) => s.reason === 'flood').map((s) => s.event_id).sort();
    expect(floods).toEqual(['k10', 'k11']);
  });

  it('a later batch of a known user only pushes signals until the next snapshot is due', () => {
    const more = partChanges(cache, messages([impressionOf('i9', 'ann', T0 + 40_000)]));
    const next = buildPartitionCommit({ keys, settings, speed, now: 2_000 }, cache, more);
    expect(commandsNamed(next, 'SET').filter((c) => String(c[1]).includes(':user:'))).toEqual([]);
    expect(commandsNamed(next, 'PEXPIRE').filter((c) => String(c[1]).includes(':signals:'))).toEqual([]);
    expect(commandsNamed(next, 'LPUSH').map((c) => c[1])).toEqual([keys.signals(2, 'ann')]);
  });
});
