import { type RedisClient, duplicateClient, redisAnswers, StoreKeys } from '@sigflow/store';
import type { Kafka } from 'kafkajs';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor, type Topics } from '@sigflow/events';
import { connectionSecurity, EventProducer } from '@sigflow/kafka';
import { PartitionConsumer } from '@sigflow/kafka/data-path';
import type { Logger } from '@sigflow/observability';
import type { Registry } from 'prom-client';
import { AnalyticsOutbox } from './analytics-outbox.js';
import { ShapleyTableCache } from './shapley-table-cache.js';
import { SpeedPartitions } from './speed-partitions.js';
import { speedMetrics } from './speed-metrics.js';
import { PrivacyErasures } from './privacy-erasures.js';
import { SegmentSetCache } from './segment-set-cache.js';

export interface SpeedLayerDeps {
  readonly config: SigflowConfig;
  /** kafkajs client for the dead-letter and analytics producers. */
  readonly kafka: Kafka;
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * The speed layer: a static member of consumer group `speed` on `events.v1`. Each owned
 * partition's keyed state lives in memory (Redis holds the durable copy); per batch the rules
 * run and ONE fenced Redis script writes every view update, the state's delta and the
 * partition's next offset. Redis, not Kafka, holds the authoritative offsets: on assignment
 * each partition resumes at the offset stored with its views, so a crash at any point neither
 * loses nor double-counts an event.
 */
export class SpeedLayer {
  readonly keys: StoreKeys;
  readonly topics: Topics;
  private readonly consumer: PartitionConsumer;
  private readonly partitions: SpeedPartitions;
  private readonly deadLetters: EventProducer;
  private readonly analytics: EventProducer;
  private readonly shapley: ShapleyTableCache;
  private readonly segments: SegmentSetCache;
  private memoryTimer: NodeJS.Timeout | undefined;
  private privacyTimer: NodeJS.Timeout | undefined;
  private readonly privacy: PrivacyErasures;
  private readonly commitRedis: RedisClient;

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
    this.partitions = new SpeedPartitions({
      config,
      redis,
      commitRedis: this.commitRedis,
      keys: this.keys,
      topics: this.topics,
      logger,
      metrics,
      shapley: this.shapley,
      deadLetters: this.deadLetters,
      outbox,
      seek: (partition, offset) => this.consumer.seek(partition, offset),
      privacy: this.privacy,
      segments: this.segments,
    });
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
        maxBytesPerPartition: config.speed.fetchMaxBytesPerPartition,
        maxBytes: config.speed.fetchMaxBytesPerPartition * config.kafka.eventPartitions,
        connectTimeoutMs: config.kafka.connectionTimeoutMs,
        requestTimeoutMs: config.kafka.requestTimeoutMs,
        security: connectionSecurity(config.kafka),
        log: logger,
      },
      this.partitions,
    );
  }

  /** Ready = in the consumer group and Redis answers (within a second: a frozen Redis is not ready). */
  async ready(): Promise<boolean> {
    if (!this.consumer.inGroup) return false;
    return redisAnswers(this.deps.redis, 1_000);
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    await Promise.all([this.deadLetters.connect(), this.analytics.connect()]);
    await this.shapley.refresh();
    this.shapley.start(config.speed.shapleyRefreshMs);
    await this.segments.refresh();
    this.segments.start(config.segments.refreshMs);
    this.memoryTimer = setInterval(() => this.partitions.sampleMemory(), 5_000);
    this.memoryTimer.unref();
    await this.privacy.refresh([]);
    // New tombstones, and erasures asked of owned partitions (applied by the next round: an
    // idle consumer runs one at its next empty fetch).
    this.privacyTimer = setInterval(() => {
      this.privacy.refresh(this.partitions.owned).catch((err: unknown) => this.deps.logger.warn({ err }, 'reading tombstones and erasure requests failed'));
    }, config.privacy.refreshMs);
    this.privacyTimer.unref();
    await this.consumer.start();
  }

  /** Graceful stop: finishes the commits in flight, leaves the group (partitions move at once), closes. */
  async stop(): Promise<void> {
    clearInterval(this.memoryTimer);
    clearInterval(this.privacyTimer);
    this.shapley.stop();
    this.segments.stop();
    await this.consumer.stop();
    await Promise.all([this.deadLetters.disconnect(), this.analytics.disconnect()]);
    this.commitRedis.disconnect();
  }
}
