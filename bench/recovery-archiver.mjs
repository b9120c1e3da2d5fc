// Archiver recovery with the shipped settings (issue 18): kill -9 the archiver while it
// archives, start it again at once, produce one event: the time from the kill until that
// event's offset is committed (written in a sealed Parquet file, dirty-marked, committed). The
// figure includes the shipped flush interval (SIGFLOW_ARCHIVER_FLUSH_MS): the event waits for
// the next flush like every other. Median of RUNS.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { Producer, ProduceAcks } from '@platformatic/kafka';
import { committedOffsets, createKafka, deleteTopics, ensureTopics } from '@sigflow/kafka';
import { createRedis, deleteKeysWithPrefix } from '@sigflow/store';
import { freePort } from '../infra/lib/process.mjs';
import { median, startService, stopService } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RECOVERY_RUNS ?? 5);

class ArchiverLab {
  constructor() {
    this.id = `bench-rec-arch-${randomUUID().slice(0, 8)}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-recovery-'));
    this.env = {
      SIGFLOW_TOPIC_PREFIX: `${this.id}-`,
      SIGFLOW_REDIS_PREFIX: this.id,
      SIGFLOW_ARCHIVER_GROUP: `${this.id}-archiver`,
      SIGFLOW_ARCHIVER_INSTANCE_ID: `${this.id}-0`,
      SIGFLOW_ARCHIVE_DIR: this.dir,
      SIGFLOW_EVENT_PARTITIONS: '4',
    };
    this.config = loadConfig({ ...process.env, ...this.env });
    this.kafka = createKafka(this.config.kafka);
    this.topic = topicsFor(this.config.kafka.topicPrefix).events;
    this.redis = createRedis(this.config.redis);
    this.sent = 0;
  }
  async setUp() {
    await ensureTopics(this.kafka, topicsFor(this.config.kafka.topicPrefix), { eventPartitions: 4 });
    // A producer of the client itself: the offset of what it wrote, on the partition it names.
    this.producer = this.kafka.watch(new Producer(this.kafka.options()));
    this.port = await freePort();
  }
  async start() {
    this.child = await startService('services/archiver/dist/main.js', { env: { ...this.env, SIGFLOW_ARCHIVER_METRICS_PORT: String(this.port) }, url: `http://127.0.0.1:${this.port}` });
  }
  /** Produces one event to partition 0; resolves with its offset. */
  async produce() {
    const id = `${this.id}-${++this.sent}`;
    const event = { event_id: id, type: 'page_view', user_id: `u-${id}`, ts: Date.now(), received_at: Date.now(), page_id: 'home' };
    const { offsets } = await this.producer.send({ acks: ProduceAcks.ALL, messages: [{ topic: this.topic, partition: 0, key: Buffer.from(event.user_id), value: Buffer.from(JSON.stringify(event)) }] });
    return Number(offsets[0].offset);
  }
  async committed() {
    return (await committedOffsets(this.kafka, this.env.SIGFLOW_ARCHIVER_GROUP, this.topic)).get(0) ?? -1;
  }
  /** Resolves with Date.now() once the group's committed offset of partition 0 is past `offset`. */
  async committedPast(offset, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.committed()) > offset) return Date.now();
      await sleep(50);
    }
    throw new Error(`offset ${offset} not committed within ${timeoutMs} ms`);
  }
  async tearDown() {
    if (this.child) await stopService(this.child);
    await this.producer?.close();
    await deleteTopics(this.kafka, Object.values(topicsFor(this.config.kafka.topicPrefix))).catch(() => undefined);
    await deleteKeysWithPrefix(this.redis, this.config.redis.keyPrefix);
    this.redis.disconnect();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The archiver section of bench:recovery. */
export async function archiverRecovery() {
  const lab = new ArchiverLab();
  try {
    await lab.setUp();
    await lab.start();
    await lab.committedPast(await lab.produce());
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      await lab.produce(); // traffic before the crash, maybe buffered and lost with the process
      const t0 = Date.now();
      const exited = new Promise((resolve) => lab.child.once('exit', resolve));
      lab.child.kill('SIGKILL');
      await exited;
      const started = lab.start();
      const offset = await lab.produce();
      times.push((await lab.committedPast(offset)) - t0);
      await started;
    }
    const a = lab.config.archiver;
    const result = {
      restartCommittedMs: median(times),
      runs: times,
      settings: { sessionTimeoutMs: a.sessionTimeoutMs, heartbeatIntervalMs: a.heartbeatIntervalMs, flushMs: a.flushMs },
      note: 'kill -9, restart at once, one new event: ms until its offset is committed (includes waiting for the next flush, every flushMs)',
    };
    console.log(`archiver recovery: restart to committed ${result.restartCommittedMs} ms (runs ${JSON.stringify(times)})`);
    return result;
  } finally {
    await lab.tearDown();
  }
}
