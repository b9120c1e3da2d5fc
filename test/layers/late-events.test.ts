// Late events across services: produced to Kafka, archived by the archiver service, recomputed
// by the batch layer's scheduled job, and reconciled against the speed view. (Moved here from
// jobs/batch: a job's own tests import no service.) The event builders are the batch tests'.
import { QueueEvents, type Queue } from 'bullmq';
import { type RedisClient, createRedis, fieldParts, StoreKeys } from '@sigflow/store';
import { readBatchHourEntries, readBatchWatermark } from '@sigflow/store/batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor, type ReceivedEvent } from '@sigflow/events';
import { createKafka, ensureTopics, EventProducer } from '@sigflow/kafka';
import { Archiver } from '@sigflow/archiver';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import type { RecordedComparison } from '@sigflow/serving';
import { bullConnection, bullPrefix, installSchedulers, openBatchQueue } from '@sigflow/batch-jobs';
import { waitUntil } from '@sigflow/test-support';
import {
  createBatchContext,
  startBatchWorker,
  type BatchWorker,
} from '@sigflow/batch';
import { HOUR, MINUTE, SECOND, T0, click, conversion, impression, testConfig } from '../../jobs/batch/test/helpers.js';
import { removeTestRun } from '../../services/archiver/test/helpers.js';

const at = (h: number, m: number, s = 0, ms = 0) => T0 + (h - 10) * HOUR + m * MINUTE + s * SECOND + ms;
const H10 = T0;
const H13 = T0 + 3 * HOUR;

/** Hand-made traffic; the expected counts below are counted by hand from it. */
const onTime: ReceivedEvent[] = [
  impression({ id: 'a-imp', user: 'a', ts: at(10, 5), campaign: 'c1', ad: 'a1', channel: 'search' }),
  { ...impression({ id: 'a-imp', user: 'a', ts: at(10, 5), campaign: 'c1', ad: 'a1', channel: 'search' }), received_at: at(10, 5, 2) }, // duplicate copy
  click({ id: 'a-clk', user: 'a', ts: at(10, 5, 10), campaign: 'c1', ad: 'a1', channel: 'search' }),
  conversion({ id: 'a-conv', user: 'a', ts: at(10, 20), value: 10 }),
  impression({ id: 'b-imp', user: 'b', ts: at(10, 10), campaign: 'c2', ad: 'a3', channel: 'display' }),
  click({ id: 'b-clk', user: 'b', ts: at(10, 10, 0, 500), campaign: 'c2', ad: 'a3', channel: 'display' }), // too fast
  click({ id: 'c-clk', user: 'c', ts: at(10, 15), campaign: 'c1', ad: 'a1', channel: 'search' }), // orphan
  impression({ id: 'e-imp', user: 'e', ts: at(13, 0), campaign: 'c2', ad: 'a4', channel: 'social' }),
  click({ id: 'e-clk', user: 'e', ts: at(13, 0, 30), campaign: 'c2', ad: 'a4', channel: 'social' }),
  conversion({ id: 'f-conv', user: 'f', ts: at(13, 10), value: 3 }), // no touchpoint until the late one: direct
];
/** Three hours late: produced after hour 13's traffic, for hour 10. */
const late: ReceivedEvent[] = [
  impression({ id: 'd-imp', user: 'd', ts: at(10, 30), received_at: at(13, 30), campaign: 'c1', ad: 'a2', channel: 'display' }),
  click({ id: 'd-clk', user: 'd', ts: at(10, 30, 20), received_at: at(13, 30), campaign: 'c1', ad: 'a2', channel: 'display' }),
  conversion({ id: 'd-conv', user: 'd', ts: at(10, 45), received_at: at(13, 30), value: 5 }),
  // f's only touchpoint: its conversion in hour 13, computed before this arrives, goes to c3.
  impression({ id: 'f-imp', user: 'f', ts: at(10, 50), received_at: at(13, 30), campaign: 'c3', ad: 'a5', channel: 'social' }),
];

type Totals = Record<string, { impressions: number; clicks: number; invalid_impressions: number; invalid_clicks: number; conversions: number; revenue: number }>;

describe('late events through Kafka, the archiver and the scheduled recompute', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let kafka: ReturnType<typeof createKafka>;
  let producer: EventProducer;
  let archiver: Archiver;
  let queue: Queue;
  let worker: BatchWorker;
  const logger = createLogger('late-test', 'silent');

  /** The serving batch version's totals per campaign for one hour (metrics + last_touch attribution). */
  async function batchTotals(hour: number): Promise<{ version: string; totals: Totals } | null> {
    const entry = (await readBatchHourEntries(redis, keys, [hour])).get(hour);
    if (!entry) return null;
    const totals: Totals = {};
    const of = (c: string) => (totals[c] ??= { impressions: 0, clicks: 0, invalid_impressions: 0, invalid_clicks: 0, conversions: 0, revenue: 0 });
    for (const c of ['c1', 'c2']) {
      for (const [f, v] of Object.entries(await redis.hgetall(keys.batchMetrics(c, hour, entry.version)))) {
        of(c)[fieldParts(f)[2] as 'impressions']! += Number(v);
      }
    }
    for (const [f, v] of Object.entries(await redis.hgetall(keys.batchAttribution('last_touch', hour, entry.version)))) {
      const [, campaign, , kind] = fieldParts(f);
      of(campaign as string)[kind === 'c' ? 'conversions' : 'revenue'] += Number(v);
    }
    return { version: entry.version, totals };
  }

  const send = (events: readonly ReceivedEvent[]) => producer.send(events.map((e) => ({ key: e.user_id, value: JSON.stringify(e) })));

  const waitFor = waitUntil;

  beforeAll(async () => {
    ({ config, dir } = testConfig('late', {
      SIGFLOW_ARCHIVER_FLUSH_EVENTS: '100',
      SIGFLOW_ARCHIVER_FLUSH_MS: '200',
      SIGFLOW_ARCHIVER_GROUP: `archiver-late-${Date.now()}`,
      SIGFLOW_BATCH_RECOMPUTE_EVERY: '*/2 * * * * *',
      SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
      SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
      SIGFLOW_BATCH_BACKOFF_MS: '200',
      SIGFLOW_BATCH_VIEW_PARQUET: 'false',
    }));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    kafka = createKafka(config.kafka);
    const topics = topicsFor(config.kafka.topicPrefix);
    await ensureTopics(kafka, topics, { eventPartitions: 2 });
    producer = new EventProducer(kafka, topics.events, { idempotent: false });
    await producer.connect();
    archiver = await Archiver.start({ config, redis, logger, registry: createMetricsRegistry('late-archiver'), lagPollMs: 500 });
    const ctx = createBatchContext(config, redis);
    queue = openBatchQueue(config);
    await installSchedulers(queue, config);
    worker = startBatchWorker({ context: ctx, registry: createMetricsRegistry('late-batch'), logger, queue });
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await archiver?.stop();
    await producer?.disconnect();
    await removeTestRun({ config, kafka, redis, dir });
  });

  it('after the scheduled recompute, batch views equal the hand-counted truth, late events included', { timeout: 120_000 }, async () => {
    await send(onTime);
    const first = await waitFor(
      'hour 10 computed from the on-time events',
      () => batchTotals(H10),
      (b) => b?.totals['c1']?.impressions === 1 && b.totals['c2']?.impressions === 1,
    );
    expect(first!.totals).toEqual({
      c1: { impressions: 1, clicks: 1, invalid_impressions: 0, invalid_clicks: 1, conversions: 1, revenue: 10 },
      c2: { impressions: 1, clicks: 0, invalid_impressions: 0, invalid_clicks: 1, conversions: 0, revenue: 0 },
    });
    const zero = { impressions: 0, clicks: 0, invalid_impressions: 0, invalid_clicks: 0 };
    const firstH13 = await waitFor('hour 13 computed from the on-time events', () => batchTotals(H13), (b) => b?.totals['none']?.conversions === 1);
    expect(firstH13!.totals['none']).toEqual({ ...zero, conversions: 1, revenue: 3 });

    await send(late);
    const final = await waitFor(
      'hour 10 recomputed with the late events',
      () => batchTotals(H10),
      (b) => b !== null && b.version !== first!.version && b.totals['c1']?.impressions === 2,
    );
    expect(final!.totals).toEqual({
      c1: { impressions: 2, clicks: 2, invalid_impressions: 0, invalid_clicks: 1, conversions: 2, revenue: 15 },
      c2: { impressions: 1, clicks: 0, invalid_impressions: 0, invalid_clicks: 1, conversions: 0, revenue: 0 },
    });
    expect(await redis.hgetall(keys.batchQuality(H10, final!.version))).toEqual({
      'c1\tduplicates': '1',
      'c1\tinvalid:orphan': '1',
      'c2\tinvalid:too_fast': '1',
    });
    // Hour 13 got no file, but f's late impression is in its conversion's path: the late file
    // made it stale, and the scheduled job recomputed it too.
    const h13 = await waitFor('hour 13 recomputed for the late touchpoint', () => batchTotals(H13), (b) => b !== null && b.version !== firstH13!.version);
    expect(h13?.totals).toEqual({
      c2: { impressions: 1, clicks: 1, invalid_impressions: 0, invalid_clicks: 0, conversions: 0, revenue: 0 },
      c3: { ...zero, conversions: 1, revenue: 3 },
    });
    expect((await readBatchHourEntries(redis, keys, [H10])).get(H10)).toMatchObject({ rows: 10, duplicates: 1 });

    // Sealed (the archiver is caught up) and computed: the watermark covers both hours.
    const watermark = await waitFor('the batch watermark', () => readBatchWatermark(redis, keys), (w) => w !== null && w >= H13 + HOUR);
    expect(watermark).toBeGreaterThanOrEqual(H13 + HOUR);
    expect(await redis.zscore(keys.dirtyHours(), String(H10))).toBeNull();
  });

  it('reconcile: per hour and campaign, speed vs batch and why they differ', { timeout: 60_000 }, async () => {
    // What the speed layer had for hour 10: it counted the late events as late and left them out.
    await redis.hset(keys.speedMetrics(0, 'c1', H10), `${at(10, 5) - (at(10, 5) % MINUTE)}\ta1\timpressions`, 1, `${at(10, 5)}\ta1\tclicks`, 1, `${at(10, 15)}\ta1\tinvalid_clicks`, 1);
    await redis.hset(keys.speedQuality(1, H10), 'c1\tlate_impression', 1, 'c1\tlate_click', 1, 'c1\tduplicates', 1, 'c1\tinvalid:orphan', 1);
    await redis.hset(keys.speedAttribution(2, 'last_touch', H10), `${at(10, 20)}\tc1\tsearch\tc`, 1, `${at(10, 20)}\tc1\tsearch\tr`, 10);
    await redis.sadd(keys.campaigns(3), 'c1', 'c2');
    const events = new QueueEvents(config.batch.queueName, { connection: bullConnection(config), prefix: bullPrefix(config) });
    await events.waitUntilReady();
    const job = await queue.add('reconcile', { from: '2026-11-20T10:00Z', to: '2026-11-20T11:00Z' });
    // c1, c2 and c3 (f's late impression, in the batch views only).
    expect(await job.waitUntilFinished(events, 30_000)).toMatchObject({ hours: 1, campaigns: 3 });
    await events.close();
    const entry = (await readBatchHourEntries(redis, keys, [H10])).get(H10)!;
    const c1 = JSON.parse((await redis.hget(keys.batchChanges(H10, entry.version), 'c1')) as string) as RecordedComparison;
    // The serving reconciliation's sign: diff = speed - batch (the speed layer left the late events out).
    expect(c1).toMatchObject({
      campaignId: 'c1',
      hourStart: H10,
      version: entry.version,
      model: 'last_touch',
      impressions: { speed: 1, batch: 2, diff: -1, relDiff: -0.5 },
      clicks: { speed: 1, batch: 2, diff: -1, relDiff: -0.5 },
      invalidClicks: { speed: 1, batch: 1, diff: 0, relDiff: 0 },
      conversions: { speed: 1, batch: 2, diff: -1, relDiff: -0.5 },
      revenue: { speed: 10, batch: 15, diff: -5, relDiff: -1 / 3 },
    });
    expect(c1.causes).toEqual({
      late: { impression: 1, click: 1 },
      duplicates: { speed: 1, batch: 1 },
      invalid: { speed: { orphan: 1 }, batch: { orphan: 1 } },
      // No speed layer ran: no signals to correct.
      signalsCorrected: {},
      other: {},
      named: [{ cause: 'late_events', speed: 2, batch: 0 }],
    });
  });
});
