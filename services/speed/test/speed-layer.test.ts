import { type RedisClient, field, type StoreKeys } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsMessageProblem, userPartition, type SigflowEvent } from '@sigflow/events';
import { readTopicMessages, type EventProducer, type KafkaClient } from '@sigflow/kafka';
import { hourStart } from '@sigflow/core';
import { waitUntil } from '@sigflow/test-support';
import { startSpeedRun, type SpeedRun } from './helpers.js';

const T0 = Date.UTC(2026, 10, 21, 9, 0, 0);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

describe('speed layer against real Kafka and Redis', () => {
  let run: SpeedRun;
  let id: string;
  let kafka: KafkaClient;
  let redis: RedisClient;
  let producer: EventProducer;
  let keys: StoreKeys;
  const topics = () => run.topics;

  beforeAll(async () => {
    run = await startSpeedRun('speed');
    ({ id, kafka, redis, producer, keys } = run);
  });

  afterAll(async () => run?.close());

  const partitions = [0, 1];
  /** A speed view hash summed over the partitions (each partition writes its own). */
  const summed = async (keyOf: (partition: number) => string): Promise<Record<string, string>> => {
    const sums = new Map<string, number>();
    for (const hash of await Promise.all(partitions.map((p) => redis.hgetall(keyOf(p))))) {
      for (const [f, v] of Object.entries(hash)) sums.set(f, (sums.get(f) ?? 0) + Number(v));
    }
    return Object.fromEntries([...sums].map(([f, n]) => [f, String(n)]));
  };
  const signalsOf = (user: string) => redis.lrange(keys.signals(userPartition(user, 2), user), 0, -1);

  const send = (events: SigflowEvent[], receivedAt = T0 + 3_600_000) =>
    producer.send(events.map((e) => ({ key: e.user_id, value: JSON.stringify({ ...e, received_at: receivedAt }) })));

  it('turns events into windowed metrics, signals, attribution and counters, once each', async () => {
    const tp = { campaign_id: 'c-1', ad_id: 'a-1', channel: 'search' } as const;
    const events: SigflowEvent[] = [
      { event_id: `${id}-i1`, type: 'impression', user_id: 'alice', ts: T0, ...tp, ip: '203.0.113.1', user_agent: UA },
      { event_id: `${id}-c1`, type: 'click', user_id: 'alice', ts: T0 + 5_000, ...tp, ip: '203.0.113.1', user_agent: UA },
      // A copy of the click: counted as a duplicate, nothing else.
      { event_id: `${id}-c1`, type: 'click', user_id: 'alice', ts: T0 + 5_000, ...tp, ip: '203.0.113.1', user_agent: UA },
      { event_id: `${id}-e1`, type: 'element_click', user_id: 'alice', ts: T0 + 9_000, page_id: 'home', element_id: 'buy', user_agent: UA },
      { event_id: `${id}-v1`, type: 'conversion', user_id: 'alice', ts: T0 + 20_000, value: 40, currency: 'EUR', user_agent: UA },
      // A bot's impression and click: invalid, reason bot.
      { event_id: `${id}-i2`, type: 'impression', user_id: 'crawler', ts: T0 + 1_000, ...tp, user_agent: BOT },
      { event_id: `${id}-c2`, type: 'click', user_id: 'crawler', ts: T0 + 3_000, ...tp, user_agent: BOT },
      // An orphan click.
      { event_id: `${id}-c3`, type: 'click', user_id: 'bob', ts: T0 + 4_000, ...tp, ip: '203.0.113.2', user_agent: UA },
    ];
    await send(events);

    const counters = await waitUntil('8 events processed', () => summed((p) => keys.speedCounters(p)), (c) => Number(c['events'] ?? 0) + Number(c['duplicates'] ?? 0) >= 8);
    expect(counters).toMatchObject({ events: '7', duplicates: '1', 'invalid:bot': '2', 'invalid:orphan': '1' });

    const metrics = await summed((p) => keys.speedMetrics(p, 'c-1', hourStart(T0)));
    expect(metrics).toEqual({
      [field(T0, 'a-1', 'impressions')]: '1',
      [field(T0, 'a-1', 'clicks')]: '1',
      [field(T0, 'a-1', 'invalid_impressions')]: '1',
      [field(T0, 'a-1', 'invalid_clicks')]: '2',
    });

    const signals = (await signalsOf('alice')).map((s) => JSON.parse(s));
    expect(signals.map((s) => s.event_id)).toEqual([`${id}-v1`, `${id}-e1`, `${id}-c1`, `${id}-i1`]);
    const bob = (await signalsOf('bob')).map((s) => JSON.parse(s));
    expect(bob).toEqual([expect.objectContaining({ type: 'click', invalid: true, reason: 'orphan' })]);

    const lastTouch = await summed((p) => keys.speedAttribution(p, 'last_touch', hourStart(T0)));
    expect(lastTouch).toEqual({ [field(T0, 'c-1', 'search', 'c')]: '1', [field(T0, 'c-1', 'search', 'r')]: '40' });
    expect(await summed((p) => keys.speedHeatmap(p, 'home', hourStart(T0)))).toEqual({ [field(T0, 'buy')]: '1' });
    expect((await summed((p) => keys.speedQuality(p, hourStart(T0))))[field('*', 'shapley:none')]).toBe('1');
  });

  it('times the phases of its rounds, within the time it has run', async () => {
    const phaseSeconds = async () => {
      const { values } = await run.registry.getSingleMetric('sigflow_speed_round_phase_seconds_total')!.get();
      return new Map(values.map((v) => [String(v.labels['phase']), v.value]));
    };
    const before = await phaseSeconds();
    const started = performance.now();
    await send([{ event_id: `${id}-t1`, type: 'page_view', user_id: 'trent', ts: T0 + 40_000, page_id: 'home', user_agent: UA }]);
    await waitUntil('the page view timed', () => redis.llen(keys.signals(userPartition('trent', 2), 'trent')), (n) => n === 1);
    const elapsed = (performance.now() - started) / 1000;
    const after = await phaseSeconds();
    for (const phase of ['intake', 'load', 'rules', 'commit']) {
      const spent = (after.get(phase) ?? 0) - (before.get(phase) ?? 0);
      expect(spent, phase).toBeGreaterThan(0);
      expect(spent, phase).toBeLessThan(elapsed);
    }
  });

  it('sends a poison message to the dead-letter topic and keeps going', async () => {
    await producer.send([{ key: 'mallory', value: '{"this is": not json' }]);
    await send([{ event_id: `${id}-p1`, type: 'page_view', user_id: 'mallory', ts: T0 + 30_000, page_id: 'home' }]);
    await waitUntil('the page view after the poison message', () => redis.llen(keys.signals(userPartition('mallory', 2), 'mallory')), (n) => n === 1);
    expect((await summed((p) => keys.speedCounters(p)))['dlq']).toBe('1');
    const [dead] = await readTopicMessages(kafka, topics().deadLetters, 1);
    expect(JSON.parse(dead!.value)).toMatchObject({ topic: topics().events, reason: expect.stringMatching(/^not JSON/), payload: '{"this is": not json' });
  });

  it('publishes each attributed conversion to analytics.v1 with every model and the Shapley version used', async () => {
    const [message] = await readTopicMessages(kafka, topics().analytics, 1);
    const conversion = JSON.parse(message!.value);
    expect(conversion).toMatchObject({ conversion_event_id: `${id}-v1`, user_id: 'alice', value: 40, shapley_version: null, shapley_fallback: 'no_table' });
    expect(Object.keys(conversion.credits).sort()).toEqual(['first_touch', 'last_touch', 'linear', 'position_based', 'shapley', 'time_decay']);
    expect(analyticsMessageProblem(conversion)).toBeNull();
    // The outbox is drained once the messages are in Kafka.
    expect((await redis.llen(keys.speedOutbox(0))) + (await redis.llen(keys.speedOutbox(1)))).toBe(0);
  });
});
