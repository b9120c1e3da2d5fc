import path from 'node:path';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { markDirtyCommand, raiseArchiveWatermarks, StoreKeys } from '@sigflow/store';
import type { Logger } from '@sigflow/observability';
import { ArchiveWriter, type ArchivedMessage, type FlushResult } from '@sigflow/archive';
import { archiverMetrics, type ArchiverMetrics } from './archiver-metrics.js';

export interface ArchiverDeps {
  readonly config: SigflowConfig;
  readonly kafka: Kafka;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Archive root; default: the configured dir resolved against the working directory. */
  readonly root?: string;
  /** How often consumer lag is read (and idle partitions' watermarks advanced). */
  readonly lagPollMs?: number;
  /**
   * A partition with nothing left to read has watermark "now - idleWatermarkDelayMs": events
   * arriving later than that behind the wall clock land in hours that may already be sealed
   * (they are marked dirty and recomputed like any late file).
   */
  readonly idleWatermarkDelayMs?: number;
  /** DuckDB threads of the writer. */
  readonly duckdbThreads?: number;
  /**
   * Kafka group session timeout: how long a crashed archiver holds its partitions before the
   * group gives them to another member (or to itself, restarted). Default 30 s.
   */
  readonly sessionTimeoutMs?: number;
  readonly now?: () => number;
}

/** Messages of one flush and the consumed position of every partition they cover. */
interface Snapshot {
  readonly events: ArchivedMessage[];
  /** partition -> next offset to consume (what to commit). */
  readonly positions: Map<number, string>;
  readonly generation: number;
}

/**
 * The archiver: consumer group `archiver` on `events.v1`. Buffers the messages and flushes
 * every `flushEvents` messages or `flushMs` into Parquet files per (partition, event hour) via
 * {@link ArchiveWriter}; after the files are renamed into place it marks their hours dirty in
 * Redis, THEN commits the Kafka offsets, then raises the partitions' archive watermarks. A crash
 * anywhere before the commit makes the events be read and written again (at-least-once; the
 * batch layer deduplicates by event_id); no partial file is ever visible.
 */
export class Archiver {
  readonly metrics: ArchiverMetrics;
  private readonly topic: string;
  private readonly keys: StoreKeys;
  private readonly now: () => number;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private buffer: ArchivedMessage[] = [];
  private positions = new Map<number, string>();
  /** A flush that failed after a partial effect: retried alone first, so file names repeat. */
  private retry: Snapshot | undefined;
  private generation = 0;
  private joined = false;
  private stopping = false;
  private lastFlushFailed = false;
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastFlushAt: number;
  private inBatch = 0;

  private constructor(
    private readonly deps: ArchiverDeps,
    private readonly writer: ArchiveWriter,
  ) {
    this.metrics = archiverMetrics(deps.registry);
    this.topic = topicsFor(deps.config.kafka.topicPrefix).events;
    this.keys = new StoreKeys(deps.config.redis.keyPrefix);
    this.now = deps.now ?? Date.now;
    this.lastFlushAt = this.now();
  }

  /** Opens the writer, joins the consumer group and starts consuming. */
  static async start(deps: ArchiverDeps): Promise<Archiver> {
    const root = deps.root ?? path.resolve(deps.config.archiver.dir);
    const writer = await ArchiveWriter.open({ root, threads: deps.duckdbThreads ?? deps.config.archiver.duckdbThreads });
    const archiver = new Archiver(deps, writer);
    await archiver.run();
    return archiver;
  }

  /** Ready: in the consumer group and the last flush succeeded. */
  ready(): boolean {
    return this.joined && !this.lastFlushFailed && !this.stopping;
  }

  private async run(): Promise<void> {
    const { config, kafka, logger } = this.deps;
    const sessionTimeout = this.deps.sessionTimeoutMs ?? this.deps.config.archiver.sessionTimeoutMs;
    const consumer = kafka.consumer({
      groupId: config.archiver.groupId,
      sessionTimeout,
      heartbeatInterval: Math.max(500, Math.min(3_000, Math.floor(sessionTimeout / 3))),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // kafkajs resumes every assigned partition from its committed offset after a rebalance,
      // so buffered (uncommitted) events will be read again: drop them, they are not lost.
      this.generation++;
      this.buffer = [];
      this.positions = new Map();
      this.retry = undefined;
      this.joined = true;
      this.metrics.buffered.set(0);
      logger.info({ assignment: e.payload.memberAssignment }, 'archiver joined the consumer group');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'archiver consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.admin = kafka.admin();
    await this.admin.connect();
    const flushEvery = setInterval(() => {
      if (this.now() - this.lastFlushAt >= config.archiver.flushMs) void this.flushQuietly();
    }, Math.max(10, Math.min(config.archiver.flushMs, 1_000)));
    const lagEvery = setInterval(() => {
      this.pollLag().catch((err: unknown) => logger.warn({ err }, 'reading consumer lag failed'));
    }, this.deps.lagPollMs ?? this.deps.config.archiver.lagPollMs);
    this.timers.push(flushEvery, lagEvery);
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    this.inBatch++;
    try {
      const generation = this.generation;
      // No per-message parsing here: DuckDB parses the JSON at flush time, off this thread.
      for (const message of batch.messages) {
        this.buffer.push({ value: message.value, partition: batch.partition, offset: message.offset });
      }
      const last = batch.messages.at(-1);
      if (last) this.positions.set(batch.partition, (BigInt(last.offset) + 1n).toString());
      this.metrics.buffered.set(this.buffer.length);
      const limit = this.deps.config.archiver.flushEvents;
      if (this.buffer.length >= limit && generation === this.generation) {
        // Flush in the background: DuckDB writes on its threads while kafkajs keeps fetching.
        // With a full buffer behind a flush still running, wait for it (back-pressure).
        const inFlight = this.flushing;
        if (inFlight && this.buffer.length >= 2 * limit) await inFlight.catch(() => undefined);
        if (!this.flushing) void this.flushQuietly();
        // While flushes fail (e.g. Redis down), stop reading instead of growing the buffer
        // without bound; never throw, or kafkajs would deliver the batch again.
        while (this.lastFlushFailed && !this.stopping && generation === this.generation && this.buffer.length >= 4 * limit) {
          await new Promise((r) => setTimeout(r, 1_000));
          await heartbeat();
          await this.flushQuietly();
        }
      }
      await heartbeat();
    } finally {
      this.inBatch--;
    }
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch {
      // Logged and counted in flushOnce; the events stay buffered for the next attempt.
    }
  }

  /** Writes and commits everything buffered so far (serialized with other flushes). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    const run = this.flushOnce();
    this.flushing = run;
    try {
      await run;
    } finally {
      this.flushing = undefined;
    }
  }

  private takeSnapshot(): Snapshot | undefined {
    if (this.retry) {
      const retry = this.retry;
      this.retry = undefined;
      return retry;
    }
    if (this.positions.size === 0) return undefined;
    const snapshot = { events: this.buffer, positions: this.positions, generation: this.generation };
    this.buffer = [];
    this.positions = new Map();
    return snapshot;
  }

  private async flushOnce(): Promise<void> {
    const started = this.now();
    const snapshot = this.takeSnapshot();
    if (!snapshot) {
      this.lastFlushAt = started;
      return;
    }
    const { logger } = this.deps;
    const end = this.metrics.flushDuration.startTimer();
    try {
      const result = await this.writer.writeMessages(snapshot.events);
      if (result.rejected > 0) {
        this.metrics.undecodable.inc(result.rejected);
        logger.warn({ rejected: result.rejected, sample: result.rejectedSample }, 'messages that are not events were not archived');
      }
      const dirty = markDirtyCommand(
        this.keys,
        result.files.map((f) => f.hourStart),
        this.now(),
      );
      if (dirty) await this.deps.redis.call(...(dirty as [string, ...(string | number)[]]));
      if (snapshot.generation !== this.generation) {
        // A rebalance happened meanwhile: the new owner reads these events again.
        logger.info({ files: result.files.length }, 'flush written during a rebalance; offsets left to the new owner');
        return;
      }
      await this.commit(snapshot.positions);
      await raiseArchiveWatermarks(this.deps.redis, this.keys, this.topic, result.maxTs);
      this.recordFlush(result, started);
      this.lastFlushFailed = false;
      end();
    } catch (err) {
      this.metrics.flushFailures.inc();
      this.lastFlushFailed = true;
      if (snapshot.generation === this.generation) this.retry = snapshot;
      logger.error({ err, events: snapshot.events.length }, 'archive flush failed; will retry');
      throw err;
    } finally {
      this.metrics.buffered.set(this.buffer.length + (this.retry?.events.length ?? 0));
    }
  }

  private async commit(positions: ReadonlyMap<number, string>): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    await consumer.commitOffsets([...positions].map(([partition, offset]) => ({ topic: this.topic, partition, offset })));
  }

  private recordFlush(result: FlushResult, started: number): void {
    const now = this.now();
    const { files, rows } = result;
    this.metrics.rows.inc(rows);
    this.metrics.files.inc(files.length);
    this.metrics.bytes.inc(files.reduce((a, f) => a + f.bytes, 0));
    this.metrics.dirtyHours.inc(new Set(files.map((f) => f.hourStart)).size);
    const seconds = Math.max(0.001, (now - this.lastFlushAt) / 1000);
    this.metrics.rowsPerSecond.set(rows / seconds);
    this.lastFlushAt = now;
    this.deps.logger.debug({ files: files.length, rows, ms: now - started }, 'archive flush');
  }

  /** Lag per partition; partitions fully archived get the idle watermark. */
  private async pollLag(): Promise<void> {
    const admin = this.admin;
    if (!admin || this.stopping) return;
    const [topicOffsets, groupOffsets] = await Promise.all([
      admin.fetchTopicOffsets(this.topic),
      admin.fetchOffsets({ groupId: this.deps.config.archiver.groupId, topics: [this.topic] }),
    ]);
    const committed = new Map<number, bigint>();
    for (const t of groupOffsets) for (const p of t.partitions) committed.set(p.partition, BigInt(p.offset));
    const idle = new Map<number, number>();
    const idleAt = this.now() - (this.deps.idleWatermarkDelayMs ?? this.deps.config.archiver.idleWatermarkDelayMs);
    for (const p of topicOffsets) {
      const high = BigInt(p.high);
      const c = committed.get(p.partition) ?? -1n;
      const lag = high - (c >= 0n ? c : BigInt(p.low));
      this.metrics.lag.set({ partition: String(p.partition) }, Number(lag));
      if (lag <= 0n) idle.set(p.partition, idleAt);
    }
    await raiseArchiveWatermarks(this.deps.redis, this.keys, this.topic, idle);
  }

  /** Clean shutdown: stop taking batches, flush and commit what is buffered, leave the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    const consumer = this.consumer;
    if (consumer) consumer.pause([{ topic: this.topic }]);
    while (this.inBatch > 0) await new Promise((r) => setTimeout(r, 10));
    try {
      await this.flush();
      if (this.retry) await this.flush();
    } catch (err) {
      this.deps.logger.error({ err }, 'final flush failed; unarchived events will be read again on restart');
    }
    await consumer?.disconnect();
    await this.admin?.disconnect().catch(() => undefined);
    await this.writer.close();
  }
}
