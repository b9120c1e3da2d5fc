import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { compileSegmentSet, createUserState, defaultRuleSettings as settings, segmentIdOf, type SegmentRule, hourStart } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import { field, StoreKeys } from '@sigflow/store';
import type { RedisCommand } from '@sigflow/store/views';
import { RoundChanges } from '../src/round-changes.js';
import { collectRoundChanges } from '../src/round-rules.js';
import { buildPartitionCommit } from '../src/partition-commit.js';
import { PartitionCache } from '../src/partition-cache.js';
import { UserDirectory } from '../src/user-directory.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const keys = new StoreKeys('t');
const speed = loadConfig({}).speed;
const rule: SegmentRule = { all: [{ feature: 'count:page_view:1h', op: '>=', value: 2 }] };
const id = segmentIdOf('readers', 1);
const set = compileSegmentSet([{ name: 'readers', id, version: 1, rule, description: '', createdAt: 1, updatedAt: 1 }], 5).set;
const view = (event_id: string, user: string, ts: number): ReceivedEvent => ({ event_id, type: 'page_view', user_id: user, ts, page_id: 'home', user_agent: UA, received_at: ts });

function commitOf(events: ReceivedEvent[]) {
  const cache = new PartitionCache(1, '10', undefined, settings.dedupeHorizonMs, new UserDirectory('0', false, 1_000, speed.userTtlMs));
  for (const u of ['ann', 'bob']) cache.users.set(u, { user: createUserState(), signals: 0, sinceSnapshot: 0, hasSnapshot: false, ttlAt: 0 });
  cache.dedupe.load(hourStart(T0), null);
  const changes = new RoundChanges();
  collectRoundChanges({ settings, shapley: null, segments: set }, [{ cache, messages: events.map((event, i) => ({ offset: 10 + i, event })), changes }], [cache], new Map());
  return { changes, commands: buildPartitionCommit({ keys, settings, speed, now: 1_000 }, cache, changes) };
}

const named = (commands: RedisCommand[], name: string, key: string) => commands.filter((c) => c[0] === name && c[1] === key);

describe('segments in a partition commit (no Kafka, no Redis)', () => {
  // ann: two page views 30 s apart -> enters at the second; bob: one page view -> not a member.
  const { changes, commands } = commitOf([view('a1', 'ann', T0), view('b1', 'bob', T0 + 10_000), view('a2', 'ann', T0 + 30_000)]);
  const ttl = settings.segmentMembershipTtlMs;

  it('counts the entry in its window and the exit at its expiry, and the day net', () => {
    expect(named(commands, 'HINCRBY', keys.speedSegmentSizes(1, id, hourStart(T0)))).toEqual([['HINCRBY', keys.speedSegmentSizes(1, id, hourStart(T0)), field(T0, 'in'), 1]]);
    const expiryWindow = Math.floor((T0 + 30_000 + ttl) / 60_000) * 60_000;
    expect(named(commands, 'HINCRBY', keys.speedSegmentSizes(1, id, hourStart(expiryWindow)))).toEqual([['HINCRBY', keys.speedSegmentSizes(1, id, hourStart(expiryWindow)), field(expiryWindow, 'out'), 1]]);
    // Day of T0: +1; day of the expiry (7 days on): -1.
    const days = named(commands, 'HINCRBY', keys.speedSegmentDays(1, id)).map((c) => [c[2], c[3]]);
    expect(days).toEqual([
      [String(T0 - (T0 % 86_400_000)), 1],
      [String(expiryWindow - (expiryWindow % 86_400_000)), -1],
    ]);
  });

  it('adds the member with its entry time and expiry, and rewrites its snapshot', () => {
    expect(named(commands, 'ZADD', keys.speedSegmentMembers(1, id))).toEqual([['ZADD', keys.speedSegmentMembers(1, id), 0, 'ann']]);
    expect(named(commands, 'HSET', keys.speedSegmentMemberInfo(1, id))).toEqual([['HSET', keys.speedSegmentMemberInfo(1, id), 'ann', field(T0 + 30_000, T0 + 30_000 + ttl)]]);
    expect(named(commands, 'SET', keys.userSnapshot(1, 'ann'))).toHaveLength(1);
    expect(named(commands, 'SET', keys.userSnapshot(1, 'bob'))).toHaveLength(0);
  });

  it('publishes the entry on analytics.v1 through the outbox', () => {
    const outbox = commands.filter((c) => c[0] === 'RPUSH' && c[1] === keys.speedOutbox(1)).flatMap((c) => c.slice(2) as string[]);
    const messages = outbox.map((m) => JSON.parse((JSON.parse(m) as { value: string }).value) as Record<string, unknown>);
    expect(messages).toEqual([{ kind: 'segment_entered', user_id: 'ann', segment: 'readers', segment_id: id, segment_version: 1, at: T0 + 30_000, reason: 'rule', entered_at: T0 + 30_000 }]);
    expect(changes.segments.entries).toBe(1);
  });

  it('an event of a member moves its expiry: one exit less at the old window, one more at the new', () => {
    const later = commitOf([view('a1', 'ann', T0), view('a2', 'ann', T0 + 30_000), view('a3', 'ann', T0 + 90_000)]).commands;
    const exits = later.filter((c) => c[0] === 'HINCRBY' && String(c[2]).endsWith('\tout')).map((c) => [Number(String(c[2]).split('\t')[0]) - T0 - ttl, c[3]]);
    // Entered at +30 s: exit scheduled at +ttl (window of +30 s); moved by the event at +90 s to the window of +60 s.
    expect(exits.filter(([, n]) => n !== 0)).toEqual([[60_000, 1]]);
  });
});
