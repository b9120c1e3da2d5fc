import type { Redis } from 'ioredis';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { SigflowConfig } from '@sigflow/config';
import { decodeEvent, topicsFor, type Topics } from '@sigflow/events';
import { EventProducer } from '@sigflow/kafka';
import { fencedCommit, OffsetFenceError, redisAnswers, StoreKeys } from '@sigflow/store';
import type { Logger } from '@sigflow/observability';
import type { Registry } from 'prom-client';
import { loadPartitionState } from './partition-state-loader.js';
import { buildPartitionCommit, type PartitionMessage } from './partition-commit.js';
import { ShapleyTableCache } from './shapley-table-cache.js';
import { speedMetrics, type SpeedMetrics } from './speed-metrics.js';

export interface SpeedLayerDeps {
  readonly config: SigflowConfig;
  readonly kafka: Kafka;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly registry: Registry;
}

interface DeadLetter {
  readonly offset: string;
  readonly reason: string;
  readonly payload: string;
}

/** Dead letters keep the start of the offending payload, enough to diagnose it. */
const MAX_DEAD_LETTER_PAYLOAD = 16 * 1024;

/**
 * The speed layer: consumer group `speed` on `events.v1`. Per partition batch it loads the
 * keyed state from Redis, runs the shared rules, and writes every view update together with
 * the partition's next offset in ONE fenced Redis script. Redis, not Kafka, holds the
 * authoritative offsets: on assignment each partition seeks to the offset stored with its
 * views, so a crash at any point neither loses nor double-counts an event.
 */
export class SpeedLayer {
  readonly keys: StoreKeys;
  readonly topics: Topics;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly deadLetters: EventProducer;
  private readonly analytics: EventProducer;
  private readonly shapley: ShapleyTableCache;
  private readonly metrics: SpeedMetrics;
  /** Partitions whose outbox must be drained before their next batch (after an assignment). */
  private readonly outboxPending = new Set<number>();
  private joined = false;
  private processedInWindow = 0;
  private rateTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SpeedLayerDeps) {
    const { config, kafka } = deps;
    this.keys = new StoreKeys(config.redis.keyPrefix);
    this.topics = topicsFor(config.kafka.topicPrefix);
    this.consumer = kafka.consumer({
      groupId: config.speed.groupId,
      sessionTimeout: config.speed.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.min(3_000, Math.floor(config.speed.sessionTimeoutMs / 3))),
      maxBytesPerPartition: 1024 * 1024,
      retry: { retries: 10 },
    });
    this.admin = kafka.admin();
    this.deadLetters = new EventProducer(kafka, this.topics.deadLetters);
    this.analytics = new EventProducer(kafka, this.topics.analytics);
    this.shapley = new ShapleyTableCache(deps.redis, this.keys, deps.logger);
    this.metrics = speedMetrics(deps.registry);
  }

  /** Ready = in the consumer group and Redis answers (within a second: a frozen Redis is not ready). */
  async ready(): Promise<boolean> {
    if (!this.joined) return false;
    return redisAnswers(this.deps.redis, 1_000);
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    await Promise.all([this.deadLetters.connect(), this.analytics.connect(), this.admin.connect()]);
    await this.shapley.refresh();
    this.shapley.start(config.speed.shapleyRefreshMs);
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topics.events, fromBeginning: true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const partitions = event.payload.memberAssignment[this.topics.events] ?? [];
      this.joined = true;
      logger.info({ partitions }, 'partitions assigned');
      this.seekToStoredOffsets(partitions).catch((err: unknown) => logger.error({ err }, 'seek to stored offsets failed'));
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.joined = false;
      logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
    this.rateTimer = setInterval(() => {
      this.metrics.eventsPerSecond.set(this.processedInWindow / 10);
      this.processedInWindow = 0;
    }, 10_000);
    this.rateTimer.unref();
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.speed.concurrency,
      eachBatch: (payload) => this.processBatch(payload),
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.rateTimer);
    this.shapley.stop();
    await this.consumer.disconnect();
    await Promise.all([this.deadLetters.disconnect(), this.analytics.disconnect(), this.admin.disconnect()]);
  }

  /** The offset each partition must resume from: the one stored with its views, else the log start. */
  private async resumeOffsets(partitions: number[]): Promise<Map<number, string>> {
    const stored = await this.deps.redis.mget(...partitions.map((p) => this.keys.speedOffset(this.topics.events, p)));
    const resume = new Map<number, string>();
    let low: Map<number, string> | undefined;
    for (const [i, p] of partitions.entries()) {
      const offset = stored[i];
      if (offset) {
        resume.set(p, offset);
        continue;
      }
      low ??= new Map((await this.admin.fetchTopicOffsets(this.topics.events)).map((o) => [o.partition, o.low]));
      resume.set(p, low.get(p) ?? '0');
    }
    return resume;
  }

  private async seekToStoredOffsets(partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    for (const p of partitions) this.outboxPending.add(p);
    for (const [partition, offset] of await this.resumeOffsets(partitions)) {
      this.consumer.seek({ topic: this.topics.events, partition, offset });
    }
  }

  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const { redis, config, logger } = this.deps;
    const partition = batch.partition;
    const started = process.hrtime.bigint();
    if (this.outboxPending.has(partition)) {
      await this.drainOutbox(partition);
      this.outboxPending.delete(partition);
    }

    const decoded: PartitionMessage[] = [];
    const dead: DeadLetter[] = [];
    for (const m of batch.messages) {
      try {
        decoded.push({ offset: m.offset, event: decodeEvent(m.value) });
      } catch (err) {
        const payload = m.value?.toString('utf8') ?? '';
        dead.push({ offset: m.offset, reason: (err as Error).message, payload: payload.slice(0, MAX_DEAD_LETTER_PAYLOAD) });
      }
    }
    const loaded = await loadPartitionState(redis, this.keys, batch.topic, partition, decoded.map((d) => d.event));
    const expected = loaded.offset ?? (await this.resumeOffsets([partition])).get(partition)!;
    const fresh = (offset: string) => BigInt(offset) >= BigInt(expected);
    const first = batch.messages.find((m) => fresh(m.offset));
    const last = batch.messages[batch.messages.length - 1]!;
    if (!first) {
      // All already applied (a replay after a restart): nothing to write.
      resolveOffset(last.offset);
      return;
    }
    if (BigInt(first.offset) > BigInt(expected)) {
      // A gap: this fetch started past the stored offset (e.g. Kafka's committed offset was ahead of Redis).
      logger.warn({ partition, expected, got: first.offset }, 'batch starts past the stored offset; seeking back');
      this.consumer.seek({ topic: batch.topic, partition, offset: expected });
      return;
    }
    const messages = decoded.filter((d) => fresh(d.offset));
    const deadLetters = dead.filter((d) => fresh(d.offset));
    const commit = buildPartitionCommit(
      { keys: this.keys, topic: batch.topic, partition, settings: config.rules, speed: config.speed, shapley: this.shapley.current() },
      loaded,
      messages,
    );
    if (deadLetters.length > 0) {
      // Before the commit: a crash in between re-sends them (the dead-letter topic is at-least-once).
      await this.deadLetters.send(
        deadLetters.map((d) => ({
          key: `${batch.topic}:${partition}:${d.offset}`,
          value: JSON.stringify({ topic: batch.topic, partition, offset: d.offset, reason: d.reason, payload: d.payload, failed_at: Date.now() }),
        })),
      );
      commit.commands.push(['HINCRBY', this.keys.speedCounters(), 'dlq', deadLetters.length]);
      logger.warn({ partition, count: deadLetters.length, first: deadLetters[0] }, 'messages sent to the dead-letter topic');
    }
    const next = (BigInt(last.offset) + 1n).toString();
    try {
      await fencedCommit(redis, this.keys.speedOffset(batch.topic, partition), loaded.offset, next, commit.commands);
    } catch (err) {
      if (!(err instanceof OffsetFenceError)) throw err;
      this.metrics.fenced.inc();
      logger.warn({ partition, err: err.message }, 'batch fenced: another consumer committed this partition');
      return;
    }
    const now = Date.now();
    for (const e of commit.applied) this.metrics.eventToView.observe((now - e.received_at) / 1000);
    for (const o of commit.outcomes) this.metrics.events.inc({ status: o.status, late: String(o.late) });
    this.metrics.deadLetters.inc(deadLetters.length);
    this.processedInWindow += batch.messages.length;
    if (commit.analytics.length > 0) await this.drainOutbox(partition);

    resolveOffset(last.offset);
    this.metrics.lag.set({ partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))));
    this.metrics.batchEvents.observe(batch.messages.length);
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  /**
   * Produces the partition's committed analytics messages, then removes them from the outbox.
   * A crash in between produces them again: `analytics.v1` is at-least-once, keyed by user,
   * and each message carries its conversion's event id for idempotent consumers.
   */
  private async drainOutbox(partition: number): Promise<void> {
    const key = this.keys.speedOutbox(this.topics.events, partition);
    const entries = await this.deps.redis.lrange(key, 0, 999);
    if (entries.length === 0) return;
    await this.analytics.send(entries.map((e) => JSON.parse(e) as { key: string; value: string }));
    await this.deps.redis.ltrim(key, entries.length, -1);
    if (entries.length === 1000) await this.drainOutbox(partition);
  }
}


