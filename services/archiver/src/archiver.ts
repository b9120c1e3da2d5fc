import { type RedisClient, StoreKeys } from '@sigflow/store';
import { markDirtyCommand, raiseArchiveWatermarks } from '@sigflow/store/batch';
import type { Registry } from 'prom-client';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { connectionSecurity, PartitionConsumer, type PartitionFetch, type PartitionHandler } from '@sigflow/kafka/data-path';
import type { Logger } from '@sigflow/observability';
import { ArchiveWriter, LocalArchiveStorage, openArchiveStorage, type ArchivedMessage, type ArchiveStorage, type FlushResult } from '@sigflow/archive';
import { archiverMetrics, type ArchiverMetrics } from './archiver-metrics.js';
import { TombstoneSet } from '@sigflow/privacy';

export interface ArchiverDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly registry: Registry;
  /** A local archive folder to write (tests); default: the configured storage, a local folder or S3. */
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
 * The archiver: a static member of consumer group `archiver` on `events.v1` (a restarted
 * instance takes its partitions back at once; see `config.archiver.instanceId`). Buffers the messages and flushes
 * every `flushEvents` messages or `flushMs` into Parquet files per (partition, event hour) via
 * {@link ArchiveWriter}; after the files are published (renamed into place, or put on S3) it marks their hours dirty in
 * Redis, THEN commits the Kafka offsets, then raises the partitions' archive watermarks. A crash
 * anywhere before the commit makes the events be read and written again (at-least-once; the
 * batch layer deduplicates by event_id); no partial file is ever visible.
 */
export class Archiver implements PartitionHandler {
  readonly metrics: ArchiverMetrics;
  private readonly topic: string;
  private readonly keys: StoreKeys;
  private readonly now: () => number;
  private consumer: PartitionConsumer | undefined;
  private buffer: ArchivedMessage[] = [];
  private positions = new Map<number, string>();
  /** A flush that failed after a partial effect: retried alone first, so file names repeat. */
  private retry: Snapshot | undefined;
  private generation = 0;
  private stopping = false;
  private lastFlushFailed = false;
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastFlushAt: number;
  /** Deleted people: their events are never archived (read again before every flush). */
  /** Deleted people, whose events are left out of the files (read again after a store loss: `reloadTombstones`). */
  private readonly tombstones: TombstoneSet;

  private constructor(
    private readonly deps: ArchiverDeps,
    private readonly writer: ArchiveWriter,
    private readonly storage: ArchiveStorage,
  ) {
    this.metrics = archiverMetrics(deps.registry);
    this.topic = topicsFor(deps.config.kafka.topicPrefix).events;
    this.keys = new StoreKeys(deps.config.redis.keyPrefix);
    this.now = deps.now ?? Date.now;
    this.lastFlushAt = this.now();
    this.tombstones = new TombstoneSet(deps.redis, this.keys, deps.config.privacy.salt);
  }

  /** Opens the writer, joins the consumer group and starts consuming. */
  static async start(deps: ArchiverDeps): Promise<Archiver> {
    const { config } = deps;
    const storage = deps.root !== undefined ? new LocalArchiveStorage(deps.root) : await openArchiveStorage({ dir: config.archiver.dir, ...config.archive }, { reads: false });
    const { duckdbThreads, writeLanes } = config.archiver;
    const writer = await ArchiveWriter.open({ root: storage.localRoot, storage, threads: deps.duckdbThreads ?? duckdbThreads, lanes: writeLanes });
    const archiver = new Archiver(deps, writer, storage);
    await archiver.run();
    return archiver;
  }

  /** Ready: in the consumer group and the last flush succeeded. */
  /** Reads every tombstone again (a store restored from the ops topic has them at their old times). */
  async reloadTombstones(): Promise<void> {
    await this.tombstones.reload();
  }

  ready(): boolean {
    return (this.consumer?.inGroup ?? false) && !this.lastFlushFailed && !this.stopping;
  }

  private async run(): Promise<void> {
    const { config, logger } = this.deps;
    const a = config.archiver;
    this.consumer = new PartitionConsumer(
      {
        brokers: config.kafka.brokers,
        clientId: `${config.kafka.clientId}-archiver`,
        groupId: a.groupId,
        groupInstanceId: a.instanceId,
        topic: this.topic,
        sessionTimeoutMs: a.sessionTimeoutMs,
        heartbeatIntervalMs: a.heartbeatIntervalMs,
        rebalanceTimeoutMs: a.sessionTimeoutMs,
        maxWaitMs: 500,
        // A round of 16 MiB shared by the partitions it owns: 4 MiB each of 4 (what it fetched
        // before it was shared), and as much for a member of 32 (it was 4 MiB a partition).
        maxBytes: 16 * 1_048_576,
        connectTimeoutMs: config.kafka.connectionTimeoutMs,
        requestTimeoutMs: config.kafka.requestTimeoutMs,
        security: connectionSecurity(config.kafka),
        log: logger,
      },
      this,
    );
    await this.consumer.start();
    // Checked ten times per period: a partial buffer waits flushMs, at most a tenth more (a
    // check every flushMs let it wait up to twice as long).
    const flushEvery = setInterval(() => {
      if (this.now() - this.lastFlushAt >= a.flushMs) void this.flushQuietly();
    }, Math.max(10, Math.min(a.flushMs / 10, 1_000)));
    const lagEvery = setInterval(() => {
      this.pollLag().catch((err: unknown) => logger.warn({ err }, 'reading consumer lag failed'));
    }, this.deps.lagPollMs ?? a.lagPollMs);
    this.timers.push(flushEvery, lagEvery);
  }

  /** Newly assigned partitions resume from their committed group offsets (else the log start). */
  async assigned(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    this.deps.logger.info({ partitions }, 'archiver assigned partitions');
    return (this.consumer as PartitionConsumer).committed(partitions);
  }

  /**
   * Partitions taken away (a rebalance, or stopping): what is buffered is flushed and committed
   * first, so the next owner starts after it; if that fails, the revoked partitions' events are
   * dropped here and the next owner reads them again (at-least-once).
   */
  async revoked(partitions: readonly number[]): Promise<void> {
    try {
      await this.flush();
      if (this.retry) await this.flush();
    } catch (err) {
      this.deps.logger.warn({ err, partitions }, 'flush before handing partitions over failed; the next owner reads them again');
    }
    const gone = new Set(partitions);
    this.generation++;
    this.buffer = this.buffer.filter((m) => !gone.has(m.partition));
    for (const p of gone) this.positions.delete(p);
    this.retry = undefined;
    this.metrics.buffered.set(this.buffer.length);
  }

  /** One fetch round: buffered (DuckDB parses the JSON at flush time, off this thread). */
  async records(batches: readonly PartitionFetch[]): Promise<void> {
    if (this.stopping) return;
    for (const batch of batches) {
      batch.values.forEach((value, i) => this.buffer.push({ value, partition: batch.partition, offset: String(batch.offsets[i]) }));
      this.positions.set(batch.partition, String(batch.nextOffset));
    }
    this.metrics.buffered.set(this.buffer.length);
    await this.applyBackPressure();
  }

  /**
   * Flushes in the background once `flushEvents` are buffered (DuckDB writes on its threads
   * while the next fetch runs). With a full buffer behind a flush still running it waits for
   * it; while flushes fail (Redis down, say) it stops reading instead of growing the buffer.
   */
  private async applyBackPressure(): Promise<void> {
    const limit = this.deps.config.archiver.flushEvents;
    if (this.buffer.length < limit) return;
    const inFlight = this.flushing;
    if (inFlight && this.buffer.length >= 2 * limit) await inFlight.catch(() => undefined);
    if (!this.flushing) void this.flushQuietly();
    while (this.lastFlushFailed && !this.stopping && this.buffer.length >= 4 * limit) {
      await new Promise((r) => setTimeout(r, 1_000));
      await this.flushQuietly();
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
      // Read right before writing: a flush that starts after a deletion was recorded leaves the
      // person out (a deletion re-checks the archive for flushes that began before).
      await this.tombstones.refresh();
      const salt = this.deps.config.privacy.salt;
      const result = await this.writer.writeMessages(snapshot.events, this.tombstones.size > 0 ? { salt, hashes: this.tombstones.list() } : undefined);
      if (result.deleted > 0) this.metrics.tombstoned.inc(result.deleted);
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
    await consumer.commit(new Map([...positions].map(([partition, offset]) => [partition, Number(offset)])));
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

  /** Lag per owned partition; partitions fully archived get the idle watermark. */
  private async pollLag(): Promise<void> {
    const consumer = this.consumer;
    const owned = consumer?.partitions ?? [];
    if (!consumer || this.stopping || owned.length === 0) return;
    const [ends, committed] = await Promise.all([consumer.logOffsets(owned, 'latest'), consumer.committed(owned)]);
    // Log starts only matter for partitions nothing was committed for yet.
    const uncommitted = owned.filter((p) => !committed.has(p));
    const starts = uncommitted.length > 0 ? await consumer.logOffsets(uncommitted, 'earliest') : new Map<number, number>();
    const idle = new Map<number, number>();
    const idleAt = this.now() - (this.deps.idleWatermarkDelayMs ?? this.deps.config.archiver.idleWatermarkDelayMs);
    for (const p of owned) {
      const lag = (ends.get(p) ?? 0) - (committed.get(p) ?? starts.get(p) ?? 0);
      this.metrics.lag.set({ partition: String(p) }, lag);
      if (lag <= 0) idle.set(p, idleAt);
    }
    await raiseArchiveWatermarks(this.deps.redis, this.keys, this.topic, idle);
  }

  /**
   * Clean shutdown: stop fetching, flush and commit what is buffered (the consumer hands the
   * partitions back through {@link revoked}), leave the group so they move at once, close.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    for (const t of this.timers) clearInterval(t);
    // Flushes run in revoked(), before the consumer leaves the group; records() stop taking.
    await this.consumer?.stop();
    this.stopping = true;
    await this.writer.close();
    await this.storage.close();
  }

  /** Where the archive is (a folder, or s3://bucket/prefix). */
  get location(): string {
    return this.storage.location;
  }
}
