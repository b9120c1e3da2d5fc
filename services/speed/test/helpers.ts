import { randomUUID } from 'node:crypto';
import { type RedisClient, createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import type { Registry } from 'prom-client';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor, type Topics } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer, type KafkaClient } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { SpeedLayer } from '../src/index.js';

/** A speed layer in this process on topics, a group and a key prefix of its own, with a producer. */
export interface SpeedRun {
  readonly id: string;
  readonly config: SigflowConfig;
  readonly kafka: KafkaClient;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly topics: Topics;
  readonly registry: Registry;
  readonly speed: SpeedLayer;
  readonly producer: EventProducer;
  /** The speed layer's log lines at warn level and above, parsed. */
  readonly logs: readonly { level: number; msg: string; partition?: number }[];
  /** Stops the speed layer and the producer, deletes the topics and keys. */
  close(): Promise<void>;
}

/** Starts a {@link SpeedRun} of 2 partitions named `name` (`env` adds settings). */
export async function startSpeedRun(name: string, env: Record<string, string> = {}): Promise<SpeedRun> {
  const id = randomUUID().slice(0, 8);
  const config = loadConfig({
    ...process.env,
    SIGFLOW_TOPIC_PREFIX: `t-${name}-${id}-`,
    SIGFLOW_REDIS_PREFIX: `t-${name}-${id}`,
    SIGFLOW_SPEED_GROUP: `t-${name}-${id}`,
    SIGFLOW_EVENT_PARTITIONS: '2',
    ...env,
  });
  const kafka = createKafka(config.kafka);
  const topics = topicsFor(config.kafka.topicPrefix);
  await ensureTopics(kafka, topics, { eventPartitions: 2 });
  const redis = createRedis(config.redis);
  const registry = createMetricsRegistry('speed');
  const logs: { level: number; msg: string }[] = [];
  const logger = createLogger('speed-test', 'warn', {}, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const speed = new SpeedLayer({ config, kafka, redis, logger, registry });
  await speed.start();
  const producer = new EventProducer(kafka, topics.events);
  await producer.connect();
  return {
    id,
    config,
    kafka,
    redis,
    keys: new StoreKeys(config.redis.keyPrefix),
    topics,
    registry,
    speed,
    producer,
    logs,
    async close() {
      await speed.stop();
      await producer.disconnect();
      await deleteTopics(kafka, Object.values(topics));
      await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
      redis.disconnect();
    },
  };
}
