import { type RedisClient, duplicateClient, redisAnswers, StoreKeys } from '@sigflow/store';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor, type Topics } from '@sigflow/events';
import { connectionSecurity, EventProducer, type KafkaClient } from '@sigflow/kafka';
import { PartitionConsumer } from '@sigflow/kafka/data-path';
import { collectGarbageNow, type Logger } from '@sigflow/observability';
import type { Registry } from 'prom-client';
import { AnalyticsOutbox } from './analytics-outbox.js';
import { ShapleyTableCache } from './shapley-table-cache.js';
import { PartitionOwnership } from './partition-ownership.js';
import { SpeedRound } from './speed-round.js';
import { warmUpRoundPath } from './jit-warm-up.js';
import { SpeedHandler } from './speed-handler.js';
import { DeadLetterPublisher } from './dead-letters.js';
import { speedMetrics } from './speed-metrics.js';
import { PrivacyErasures } from './privacy-erasures.js';
import { SegmentSetCache } from './segment-set-cache.js';
import { OpsLog } from '@sigflow/ops-log';

export interface SpeedLayerDeps {
  readonly config: SigflowConfig;
  /** Kafka client settings for the dead-letter and analytics producers. */
  readonly kafka: KafkaClient;
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * The speed layer: a static member of consumer group `speed` on `events.v1`. Each owned
 * partition's keyed state lives in memory (Redis holds the durable copy); per round the rules
 * run and, per partition, ONE fenced Redis script writes every view update, the state's delta
 * and the partition's next offset. Redis, not Kafka, holds the authoritative offsets: on assignment
 * each partition resumes at the offset stored with its views, so a crash at any point neither
 * loses nor double-counts an event.
 */
export class SpeedLayer {
  readonly keys: StoreKeys;
  readonly topics: Topics;
  private readonly consumer: PartitionConsumer;
  private readonly ownership: PartitionOwnership;
  private readonly deadLetters: EventProducer;
  private readonly analytics: EventProducer;
  private readonly shapley: ShapleyTableCache;
  private readonly segments: SegmentSetCache;
  private memoryTimer: NodeJS.Timeout | undefined;
  private privacyTimer: NodeJS.Timeout | undefined;
  private readonly privacy: PrivacyErasures;
  private readonly commitRedis: RedisClient;
  private readonly ops: OpsLog;

  constructor(private readonly deps: SpeedLayerDeps) {
    const { config, kafka, redis, logger } = deps;
    this.keys = new StoreKeys(config.redis.keyPrefix);
    this.topics = topicsFor(config.kafka.topicPrefix);
    this.deadLetters = new EventProducer(kafka, this.topics.deadLetters);
    this.analytics = new EventProducer(kafka, this.topics.analytics);
    this.shapley = new ShapleyTableCache(redis, this.keys, logger);
    const { maxConditions, maxDepth, maxValues } = config.segments;
    this.segments = new SegmentSetCache(redis, this.keys, { maxConditions, maxDepth, maxValues }, logger);
    const metrics = speedMetrics(deps.registry);
    const outbox = new AnalyticsOutbox(redis, this.keys, this.analytics, logger);
    this.commitRedis = duplicateClient(redis, { enableAutoPipelining: false });
    this.privacy = new PrivacyErasures(redis, this.keys, config.privacy.salt);
    this.ops = new OpsLog({ config, redis, logger, onStoreLoss: [async () => void (await this.privacy.tombstones.reload())] });
    const common = { config, redis, keys: this.keys, logger, metrics, outbox, privacy: this.privacy };
    this.ownership = new PartitionOwnership({ ...common, commitRedis: this.commitRedis, onStoreLoss: () => this.recoverStore() });
    const round = new SpeedRound(
      { ...common, shapley: this.shapley, segments: this.segments, deadLetters: new DeadLetterPublisher(this.deadLetters, this.topics.events, metrics, logger) },
      this.ownership,
    );
    this.consumer = new PartitionConsumer(
      {
        brokers: config.kafka.brokers,
        clientId: `${config.kafka.clientId}-speed`,
        groupId: config.speed.groupId,
        groupInstanceId: config.speed.instanceId,
        topic: this.topics.events,
        sessionTimeoutMs: config.speed.sessionTimeoutMs,
        heartbeatIntervalMs: config.speed.heartbeatIntervalMs,
        rebalanceTimeoutMs: config.speed.sessionTimeoutMs,
        maxWaitMs: config.speed.fetchMaxWaitMs,
        maxBytes: config.speed.fetchMaxBytes,
        connectTimeoutMs: config.kafka.connectionTimeoutMs,
        requestTimeoutMs: config.kafka.requestTimeoutMs,
        security: connectionSecurity(config.kafka),
        log: logger,
      },
      new SpeedHandler(this.ownership, round),
    );
  }

  /**
   * Ready = in the consumer group, processing every partition it holds, and Redis answers
   * (within a second: a frozen Redis is not ready).
   */
  async ready(): Promise<boolean> {
    if (!this.consumer.inGroup || this.ownership.stalledPartitions.size > 0) return false;
    return redisAnswers(this.deps.redis, 1_000);
  }

  /** The store lost its data: ops decisions and tombstones back (by this process or another), then tombstones, segments and the Shapley table read again. */
  private async recoverStore(): Promise<void> {
    await this.ops.checkStore();
    await Promise.all([this.privacy.tombstones.reload(), this.segments.refresh(), this.shapley.refresh()]);
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    await Promise.all([this.deadLetters.connect(), this.analytics.connect()]);
    await this.shapley.refresh();
    this.shapley.start(config.speed.shapleyRefreshMs);
    await this.segments.refresh();
    this.segments.start(config.segments.refreshMs);
    this.memoryTimer = setInterval(() => this.ownership.sampleMemory(), 5_000);
    this.memoryTimer.unref();
    await this.ops.watch();
    await this.privacy.refresh([]);
    // New tombstones, and erasures asked of owned partitions (applied by the next round: an
    // idle consumer runs one at its next empty fetch).
    this.privacyTimer = setInterval(() => {
      this.privacy.refresh(this.ownership.partitions).catch((err: unknown) => this.deps.logger.warn({ err }, 'reading tombstones and erasure requests failed'));
    }, config.privacy.refreshMs);
    this.privacyTimer.unref();
    if (config.speed.warmUp) await this.warmUp();
    await this.consumer.start();
  }

  /**
   * Before the first fetch: the round's path run over synthetic events (`warmUpRoundPath`), the
   * metrics rendered once (the first scrape's code compiled too), then the garbage all that left
   * collected. Without it the first rounds of traffic ran 20-40 ms each instead of 3-5.
   */
  private async warmUp(): Promise<void> {
    const { config, redis, logger, registry } = this.deps;
    const ran = await warmUpRoundPath({ config, keys: this.keys, redis, shapley: this.shapley.current(), segments: this.segments.current() });
    await registry.metrics();
    const collecting = performance.now();
    collectGarbageNow();
    logger.info({ ...ran, collectedMs: Math.round(performance.now() - collecting) }, 'round path run over synthetic events before consuming (JIT warm-up, SIGFLOW_SPEED_WARM_UP)');
  }

  /** Graceful stop: finishes the commits in flight, leaves the group (partitions move at once), closes. */
  async stop(): Promise<void> {
    clearInterval(this.memoryTimer);
    clearInterval(this.privacyTimer);
    this.shapley.stop();
    this.segments.stop();
    await this.consumer.stop();
    await this.ops.close();
    await Promise.all([this.deadLetters.disconnect(), this.analytics.disconnect()]);
    this.commitRedis.disconnect();
  }
}
