import path from 'node:path';
import { type RedisClient, createRedis, StoreKeys } from '@sigflow/store';
import { readArchiveWatermarks } from '@sigflow/store/batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { committedOffsets, createKafka, ensureTopics, EventProducer, topicOffsets, type KafkaClient } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { hourPartitionPath } from '@sigflow/archive';
import { Archiver } from '../src/index.js';
import { filesUnder, makeEvents, produce, readArchive, removeTestRun, testConfig, waitUntil } from './helpers.js';

const H = 3_600_000;
const hourOf = (ts: number) => ts - (ts % H);

describe('archiver against a real Kafka broker and Redis', () => {
  let config: SigflowConfig;
  let dir: string;
  let kafka: KafkaClient;
  let redis: RedisClient;
  let producer: EventProducer;
  let topic: string;
  const logger = createLogger('archiver-test', 'silent');
  const start = hourOf(Date.now()) - 2 * H + 30 * 60_000;
  const onTime = makeEvents(2_000, start, 'on');
  const late = makeEvents(60, start - 5 * H, 'late');

  beforeAll(async () => {
    ({ config, dir } = testConfig('archiver', { SIGFLOW_ARCHIVER_FLUSH_EVENTS: '300', SIGFLOW_ARCHIVER_FLUSH_MS: '300' }));
    kafka = createKafka(config.kafka);
    topic = topicsFor(config.kafka.topicPrefix).events;
    await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), { eventPartitions: 3 });
    redis = createRedis(config.redis);
    producer = new EventProducer(kafka, topic, { idempotent: false });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await removeTestRun({ config, kafka, redis, dir });
  });

  it('archives every event exactly once, late ones in their own hour; marks hours dirty; commits offsets after the files', { timeout: 90_000 }, async () => {
    const registry = createMetricsRegistry('archiver-test');
    const archiver = await Archiver.start({ config, redis, logger, registry, lagPollMs: 300 });
    try {
      await produce(producer, [...onTime.slice(0, 1_000), ...late, ...onTime.slice(1_000)]);
      const total = onTime.length + late.length;
      await waitUntil('all events archived', async () => (await readArchive(config.archiver.dir)).length >= total);
      const rows = await readArchive(config.archiver.dir);
      expect(rows).toHaveLength(total);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(total);
      // Each row sits in the folder of its event hour, in a file named after its partition and offsets.
      for (const r of rows) {
        expect(r.file).toContain(hourPartitionPath(hourOf(r.ts)));
        const [, p, first, last] = /p(\d+)-(\d+)-(\d+)\.parquet$/.exec(r.file) ?? [];
        expect(Number(p)).toBe(r.partition);
        expect(r.offset).toBeGreaterThanOrEqual(Number(first));
        expect(r.offset).toBeLessThanOrEqual(Number(last));
      }
      expect(rows.filter((r) => r.event_id.startsWith('late')).every((r) => r.file.includes(hourPartitionPath(hourOf(start - 5 * H))))).toBe(true);
      expect(filesUnder(path.join(config.archiver.dir, 'events')).every((f) => f.endsWith('.parquet'))).toBe(true);

      const keys = new StoreKeys(config.redis.keyPrefix);
      const dirty = (await redis.zrange(keys.dirtyHours(), 0, -1)).map(Number);
      expect(dirty).toEqual(expect.arrayContaining([hourOf(start), hourOf(start + 20_000 - 1), hourOf(start - 5 * H)]));

      // Offsets are committed up to the end, and lag reads 0.
      const high = await topicOffsets(kafka, topic, 'latest');
      await waitUntil('offsets committed', async () => {
        const committed = await committedOffsets(kafka, config.archiver.groupId, topic);
        return [...high].every(([partition, end]) => committed.get(partition) === end);
      });
      await waitUntil('watermarks of every partition', async () => (await readArchiveWatermarks(redis, keys, topic)).size === 3);

      await waitUntil('lag 0 on every partition', async () =>
        (await archiver.metrics.lag.get()).values.filter((v) => v.value === 0).length === 3,
      );
      const metrics = await registry.metrics();
      expect(metrics).toMatch(new RegExp(`sigflow_archiver_rows_total\\{service="archiver-test"\\} ${total}\\b`));
      expect(metrics).toMatch(/sigflow_archiver_files_total\{service="archiver-test"\} [1-9]/);
      expect(metrics).toMatch(/sigflow_archiver_consumer_lag\{partition="0",service="archiver-test"\} 0/);
      expect(metrics).toContain('sigflow_archiver_flush_seconds_bucket');
      expect(metrics).toContain('sigflow_archiver_rows_per_second');
    } finally {
      await archiver.stop();
    }
  });

  it('a clean shutdown flushes what is buffered and commits it: a restart archives nothing twice', { timeout: 90_000 }, async () => {
    const slow = { ...config, archiver: { ...config.archiver, flushEvents: 1_000_000, flushMs: 600_000 } };
    const registry = createMetricsRegistry('archiver-test');
    const archiver = await Archiver.start({ config: slow, redis, logger, registry, lagPollMs: 300 });
    const more = makeEvents(500, start + 30 * 60_000, 'more');
    await produce(producer, more);
    await waitUntil('events buffered', async () => (await archiver.metrics.buffered.get()).values[0]?.value === more.length);
    const before = (await readArchive(config.archiver.dir)).length;
    expect(before).toBe(onTime.length + late.length);
    await archiver.stop();
    const after = await readArchive(config.archiver.dir);
    expect(after).toHaveLength(before + more.length);

    const again = await Archiver.start({ config, redis, logger, registry: createMetricsRegistry('archiver-test'), lagPollMs: 300 });
    await new Promise((r) => setTimeout(r, 3_000));
    await again.stop();
    const rows = await readArchive(config.archiver.dir);
    expect(rows).toHaveLength(after.length);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
  });
});
