// The bidding service against real Redis and Kafka, views written by hand with the layers' own
// writer (windowViewCommands) and the clock pinned: the stored answer and the bidding.v1
// messages are checked against hand-computed figures.
import { randomUUID } from 'node:crypto';
import { type RedisClient, createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import { batchKeyspace, speedKeyspace } from '@sigflow/store/batch';
import { changeBudget, type StoredBudget } from '@sigflow/store/bidding';
import { windowViewCommands, type WindowViewKeyspace } from '@sigflow/store/views';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { hourStart, type AttributionDelta, type ChannelSpend, type ViewDeltas } from '@sigflow/core';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, readTopicMessages } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { BiddingService } from '../src/index.js';
import { PacingReads } from '../src/pacing-reads.js';

const EUR = 1_000_000;
const MIN = 60_000;
const T = Date.UTC(2026, 6, 14, 12, 0, 0);
const at = (hh: number, mm: number) => Date.UTC(2026, 6, 14, hh, mm);

function deltas(spend: ChannelSpend[], attribution: AttributionDelta[] = []): ViewDeltas {
  return { windowMetrics: [], spend, attribution, heatmap: [], pageActivity: [], invalidTraffic: [], eventCounts: [], counts: { events: 0, duplicates: 0, late: 0, invalid: 0 } };
}
const spendOf = (windowStart: number, channel: string, eur: number, clicks = 0, invalidEur = 0, campaign_id = 'c1'): ChannelSpend => ({
  windowStart,
  campaign_id,
  channel,
  spend: eur * EUR,
  invalidSpend: invalidEur * EUR,
  clicks,
});
const revenueOf = (windowStart: number, campaign_id: string, channel: string, revenue: number): AttributionDelta => ({ windowStart, model: 'shapley', campaign_id, channel, conversions: 1, revenue });

describe('bidding service (real Redis and Kafka, clock pinned)', () => {
  const id = randomUUID().slice(0, 8);
  let config: SigflowConfig;
  let redis: RedisClient;
  let keys: StoreKeys;
  const kafka = () => createKafka(config.kafka);
  let now = T;
  const services: BiddingService[] = [];
  const serviceNamed = (instance: string) => {
    const cfg = { ...config, bidding: { ...config.bidding, instanceId: instance } };
    const s = new BiddingService({ config: cfg, redis, kafka: kafka(), logger: createLogger('bidding-test', 'silent'), registry: new Registry(), now: () => now });
    services.push(s);
    return s;
  };
  const speed = (p: number): WindowViewKeyspace => speedKeyspace(keys, p);
  const write = async (space: WindowViewKeyspace, d: ViewDeltas) => {
    const pipe = redis.pipeline();
    for (const [command, ...args] of windowViewCommands(space, d, 3_600)) pipe.call(command, ...args);
    await pipe.exec();
  };
  const budget = (dailyEur: number, targetRoas: number): StoredBudget => ({ dailyBudgetMicros: dailyEur * EUR, timeZone: 'UTC', targetRoas, updatedAt: T - MIN, updatedBy: { key: 'key-test', role: 'ops' } });
  const stored = async (campaign: string) => JSON.parse((await redis.get(keys.biddingState(campaign))) ?? 'null') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `t-bid-${id}-`, SIGFLOW_REDIS_PREFIX: `t-bid-${id}`, SIGFLOW_EVENT_PARTITIONS: '4' });
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    await ensureTopics(kafka(), topicsFor(config.kafka.topicPrefix), { eventPartitions: 4 });
    // c1 over two partitions: 30 EUR of search at 08:00; 10 EUR and 25 clicks of search in the
    // last hour; 2 EUR, 3 clicks and 1 EUR of invalid traffic on display. Shapley revenue in the
    // last hour: 40 for c1 search, 5 for c1 display, 100 for c2 (not c1's).
    await write(speed(0), deltas([spendOf(at(8, 0), 'search', 30), spendOf(at(11, 30), 'search', 4, 10)], [revenueOf(at(11, 40), 'c1', 'search', 40)]));
    await write(speed(1), deltas([spendOf(at(11, 30), 'search', 6, 15), spendOf(at(11, 45), 'display', 2, 3, 1)], [revenueOf(at(11, 50), 'c1', 'display', 5), revenueOf(at(11, 50), 'c2', 'search', 100)]));
    await changeBudget(redis, keys, 'c1', budget(100, 2), { at: T - MIN, by: { key: 'key-test', role: 'ops' } });
  });

  afterAll(async () => {
    for (const s of services) await s.stop();
    await deleteTopics(kafka(), Object.values(topicsFor(config.kafka.topicPrefix)));
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
  });

  it('stores the answer: pace and status of the campaign, each channel multiplier with its inputs, from the speed views', async () => {
    const service = serviceNamed('one');
    await service.connect();
    expect(await service.round()).toBe('computed');
    const answer = await stored('c1');
    // Spend today 30 + 10 + 2 = 42 EUR of the 50 expected by noon: pace 0.84, under.
    expect(answer).toMatchObject({
      campaignId: 'c1',
      at: T,
      status: 'under',
      pace: 0.84,
      day: { start: at(0, 0), end: at(0, 0) + 86_400_000, elapsed: 0.5 },
      spendToday: { micros: 42 * EUR, invalidMicros: 1 * EUR, source: 'speed' },
      window: { from: T - 3_600_000, to: T, model: 'shapley', source: 'speed' },
      budget: { dailyBudgetMicros: 100 * EUR, timeZone: 'UTC', targetRoas: 2 },
      batchWatermark: null,
    });
    // search: ROAS 40 / 10 = 4, / target 2 = 2; pace factor 1 / 0.84 = 1.1905; 2.381 -> 2.38.
    // display: 3 valid clicks in the hour, fewer than 20: 1.
    expect(answer['channels'].map((c: { channel: string; multiplier: number; reason: string; roas: number }) => [c.channel, c.multiplier, c.reason, c.roas])).toEqual([
      ['display', 1, 'insufficient_data', 2.5],
      ['search', 2.38, 'roas_and_pace', 4],
    ]);
    expect(answer['channels'][1].inputs).toMatchObject({ spendMicros: 10 * EUR, revenue: 40, clicks: 25, targetRoas: 2, minClicks: 20, roasFactor: 2 });
  });

  it('publishes the first answer to bidding.v1 keyed by campaign, then only when status or a multiplier changes, at most once a second', async () => {
    const service = services[0]!;
    expect(await service.round()).toBe('computed'); // nothing changed
    // 60 EUR more search spend at 11:50: 102 EUR today, the budget of 100 is exhausted.
    await write(speed(2), deltas([spendOf(at(11, 50), 'search', 60, 5)]));
    now = T + 400;
    await service.round(); // changed, but within a second of the last message: held back
    expect((await stored('c1'))['status']).toBe('exhausted');
    now = T + 1_000;
    await service.round();
    const messages = await readTopicMessages(kafka(), topicsFor(config.kafka.topicPrefix).bidding, 2);
    expect(messages.map((m) => m.key)).toEqual(['c1', 'c1']);
    const parsed = messages.map((m) => JSON.parse(m.value) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const [first, second] = [parsed[0]!, parsed[1]!];
    expect(first).toMatchObject({ status: 'under', changed: ['status', 'multiplier:display', 'multiplier:search'], previous: null, at: T });
    expect(second).toMatchObject({
      status: 'exhausted',
      at: T + 1_000,
      changed: ['status', 'multiplier:display', 'multiplier:search'],
      previous: { status: 'under', multipliers: { display: 1, search: 2.38 } },
    });
    expect(second['channels'].map((c: { multiplier: number; reason: string }) => [c.multiplier, c.reason])).toEqual([
      [0, 'exhausted'],
      [0, 'exhausted'],
    ]);
    expect(second['spendToday'].micros).toBe(102 * EUR);
  });

  it('takes the windows at or before the batch watermark from the batch version of their hour', async () => {
    // Batch recomputed 08:00-09:00: 35 EUR of search at 08:00 (the speed view had 30).
    const version = `v-${id}`;
    await write(batchKeyspace(keys, version), deltas([spendOf(at(8, 0), 'search', 35)]));
    await redis.hset(keys.batchHours(), String(at(8, 0)), JSON.stringify({ version, computedAt: T, asOf: T }));
    await redis.set(keys.batchWatermark(), String(at(9, 0)));
    now = T + 2_000;
    await services[0]!.round();
    const answer = await stored('c1');
    expect(answer['spendToday']).toEqual({ micros: 107 * EUR, invalidMicros: 1 * EUR, source: 'mixed' });
    expect(answer['window'].source).toBe('speed');
    expect(answer['batchWatermark']).toBe(at(9, 0));
  });

  it('works on one instance at a time: a second stands by until the first gives the lease up', async () => {
    const standby = serviceNamed('two');
    await standby.connect();
    await changeBudget(redis, keys, 'c2', budget(1_000, 1), { at: T, by: { key: 'key-test', role: 'ops' } });
    expect(await standby.round()).toBe('standby');
    expect(await redis.get(keys.biddingState('c2'))).toBeNull();
    await services[0]!.stop();
    expect(await standby.round()).toBe('computed');
    expect((await stored('c2'))['campaignId']).toBe('c2');
  });
});

describe('pacing reads', () => {
  it('reads the hashes of hours every speed partition has closed once, then from the cache', async () => {
    const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: `t-bidr-${randomUUID().slice(0, 8)}`, SIGFLOW_EVENT_PARTITIONS: '4' });
    const redis = createRedis(config.redis);
    const keys = new StoreKeys(config.redis.keyPrefix);
    try {
      await changeBudget(redis, keys, 'c1', { dailyBudgetMicros: EUR, timeZone: 'UTC', targetRoas: 1, updatedAt: T, updatedBy: { key: 'k', role: 'ops' } }, { at: T, by: { key: 'k', role: 'ops' } });
      // Every partition has seen events up to noon: hours up to 10:00 are closed (their last
      // window ended more than the allowed lateness before it); 11:00 and 12:00 are not.
      for (let p = 0; p < 4; p++) await redis.set(keys.speedWatermark(p), String(T));
      const reads = new PacingReads({ keys, partitions: 4, rules: config.rules, bidding: config.bidding.rules, maxFutureMs: config.limits.maxFutureMs });
      // Budget day 00:00-12:05 (13 hours) and the trailing hour's revenue (11:00, 12:00), 4 partitions each.
      expect((await reads.read(redis, T)).hashesRead).toBe((13 + 2) * 4);
      expect((await reads.read(redis, T)).hashesRead).toBe((2 + 2) * 4);
      expect(hourStart(T)).toBe(T);
    } finally {
      await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
      redis.disconnect();
    }
  });
});
