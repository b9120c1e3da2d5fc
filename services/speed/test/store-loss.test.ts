// A Redis that lost its data, met by a running speed layer: it takes its partitions again and
// rebuilds every view from Kafka (counts of all events, before and after the loss, exactly once);
// a partition whose epoch another owner holds is not processed, and the layer says so.
import { hourStart } from '@sigflow/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowEvent } from '@sigflow/events';
import { deleteKeysWithPrefix, field } from '@sigflow/store';
import { waitUntil } from '@sigflow/test-support';
import { startSpeedRun, type SpeedRun } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

describe('speed layer after the store lost its data (real Kafka and Redis)', () => {
  let run: SpeedRun;
  beforeAll(async () => {
    run = await startSpeedRun('store-loss');
  });
  afterAll(async () => run?.close());

  /** n impressions of users u<from>..u<from+n-1>, one a second from T0 + from seconds. */
  const impressions = (from: number, n: number): SigflowEvent[] =>
    Array.from({ length: n }, (_, i) => ({ event_id: `${run.id}-i${from + i}`, type: 'impression', user_id: `u${from + i}`, ts: T0 + (from + i) * 1_000, campaign_id: 'c-1', ad_id: 'a-1', channel: 'search', user_agent: UA }));
  const send = (events: SigflowEvent[]) => run.producer.send(events.map((e) => ({ key: e.user_id, value: JSON.stringify({ ...e, received_at: e.ts + 100 }) })));
  const sum = async (keyOf: (p: number) => string, f: string) => {
    let n = 0;
    for (const p of [0, 1]) n += Number((await run.redis.hget(keyOf(p), f)) ?? 0);
    return n;
  };
  const events = () => sum((p) => run.keys.speedCounters(p), 'events');
  const impressionsIn = (minute: number) => sum((p) => run.keys.speedMetrics(p, 'c-1', hourStart(T0)), field(T0 + minute * 60_000, 'a-1', 'impressions'));
  const metric = async (name: string) => Number(/^(?:\S+) (\S+)$/m.exec((await run.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#')).join('\n'))?.[1] ?? 0);

  it('takes its partitions again and rebuilds every view from Kafka: each event counted once', { timeout: 60_000 }, async () => {
    await send(impressions(0, 60));
    await waitUntil('60 events', events, (n) => n === 60, 20_000);
    await deleteKeysWithPrefix(run.redis, run.config.redis.keyPrefix);
    await send(impressions(60, 60));
    // Rebuilt from the log's start: the 60 before the loss and the 60 after, once each.
    await waitUntil('120 events after the loss', events, (n) => n === 120, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await events()).toBe(120);
    expect([await impressionsIn(0), await impressionsIn(1)]).toEqual([60, 60]);
    expect(await metric('sigflow_speed_store_losses_total')).toBe(2);
    expect(await run.speed.ready()).toBe(true);
  });

  it('does not process a partition another owner took, and says so until the group hands it back', { timeout: 60_000 }, async () => {
    const before = await events();
    await run.redis.set(run.keys.speedEpoch(0), '1000000');
    await run.redis.set(run.keys.speedEpoch(1), '1000000');
    await send(impressions(200, 10));
    await waitUntil('unready', () => run.speed.ready(), (ready) => !ready, 20_000);
    expect(await metric('sigflow_speed_partitions_held_not_processed')).toBe(2);
    expect(await events()).toBe(before);
    // A warning at once (a rebalance under way looks the same at first), an error once the group
    // has left the partitions here for 1.5 rebalance timeouts (9 s with the shipped 6-s one).
    const said = (level: number) => run.logs.filter((l) => l.level === level && /^partition (fenced|held)/.test(l.msg)).map((l) => l.partition).sort();
    expect(said(40)).toEqual([0, 1]);
    expect(said(50)).toEqual([]);
    await waitUntil('the error after 1.5 rebalance timeouts', async () => said(50), (p) => p.length === 2, 20_000);
    expect(said(50)).toEqual([0, 1]);
  });
});
