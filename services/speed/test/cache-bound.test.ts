import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userPartition, type SigflowEvent } from '@sigflow/events';
import { waitUntil } from '@sigflow/test-support';
import { startSpeedRun, type SpeedRun } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const CACHED_USERS = 10;

// SIGFLOW_SPEED_CACHED_USERS bounds the users a process keeps in memory, shared by the
// partitions it owns (here 2, so 5 each); a user dropped from memory reloads from Redis.
describe('the keyed-state cache of a speed process', () => {
  let run: SpeedRun;
  beforeAll(async () => {
    run = await startSpeedRun('cache', { SIGFLOW_SPEED_CACHED_USERS: String(CACHED_USERS) });
  });
  afterAll(async () => run?.close());

  const impression = (n: number, user: string, ts: number): SigflowEvent => ({
    event_id: `${run.id}-${n}`,
    type: 'impression',
    user_id: user,
    ts,
    campaign_id: 'c-1',
    ad_id: 'a-1',
    channel: 'search',
    ip: '203.0.113.9',
    user_agent: UA,
  });
  const send = (events: SigflowEvent[]) => run.producer.send(events.map((e) => ({ key: e.user_id, value: JSON.stringify({ ...e, received_at: T0 + 3_600_000 }) })));
  const processed = (n: number) =>
    waitUntil(`${n} events processed`, async () => {
      let events = 0;
      for (const p of [0, 1]) events += Number((await run.redis.hget(run.keys.speedCounters(p), 'events')) ?? 0);
      return events;
    }, (events) => events >= n);
  const cachedUsers = async () => {
    const text = await run.registry.getSingleMetricAsString('sigflow_speed_cached_users');
    return Number(/^sigflow_speed_cached_users(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1] ?? NaN);
  };

  it('keeps at most its share per owned partition once a round is committed, and a dropped user reloads whole', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `cache-user-${i}`);
    await send(users.map((u, i) => impression(i, u, T0 + i)));
    await processed(40);
    // A later round of one new user on each partition: the first round's users (kept while
    // their commit was pending) may now leave memory, down to 5 a partition.
    const late = [0, 1].map((p) => Array.from({ length: 50 }, (_, i) => `cache-late-${i}`).find((u) => userPartition(u, 2) === p) as string);
    await send(late.map((u, i) => impression(100 + i, u, T0 + 1_000)));
    await processed(42);
    const held = await waitUntil('the gauge sampled after the trim', cachedUsers, (n) => n > 0 && n <= CACHED_USERS, 15_000);
    expect(held).toBeLessThanOrEqual(CACHED_USERS);

    // The first user left memory; their next event reads their state back and appends to it.
    await send([impression(200, users[0] as string, T0 + 2_000)]);
    await processed(43);
    const signals = await run.redis.lrange(run.keys.signals(userPartition(users[0] as string, 2), users[0] as string), 0, -1);
    expect(signals.map((s) => (JSON.parse(s) as { event_id: string }).event_id)).toEqual([`${run.id}-200`, `${run.id}-0`]);
  });
});
