import { randomUUID } from 'node:crypto';
import { type RedisClient, createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer, readTopicMessages, topicOffsets, type KafkaClient } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { AnalyticsOutbox } from '../src/analytics-outbox.js';

describe('analytics outbox with two owners of a partition at once (real Kafka and Redis)', () => {
  const id = randomUUID().slice(0, 8);
  const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `t-outbox-${id}-`, SIGFLOW_REDIS_PREFIX: `t-outbox-${id}` });
  const topics = topicsFor(config.kafka.topicPrefix);
  const keys = new StoreKeys(config.redis.keyPrefix);
  const logger = createLogger('outbox-test', 'silent');
  let kafka: KafkaClient;
  let redis: RedisClient;
  let producer: EventProducer;

  beforeAll(async () => {
    kafka = createKafka(config.kafka);
    await ensureTopics(kafka, topics, { eventPartitions: config.kafka.eventPartitions });
    redis = createRedis(config.redis);
    producer = new EventProducer(kafka, topics.analytics);
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
    await deleteTopics(kafka, Object.values(topics));
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
  });

  it('a previous owner (zombie) publishes but trims nothing; the new owner publishes every message', async () => {
    const messages = Array.from({ length: 2_500 }, (_, i) => JSON.stringify({ key: `u${i}`, value: JSON.stringify({ conversion_event_id: `v${i}` }) }));
    await redis.rpush(keys.speedOutbox(0), ...messages);
    // The new owner took the partition: its assignment bumped the epoch from 1 to 2.
    await redis.set(keys.speedEpoch(0), '2');
    const zombie = new AnalyticsOutbox(redis, keys, producer, logger);
    const owner = new AnalyticsOutbox(redis, keys, producer, logger);

    zombie.drain(0, '1');
    await zombie.settled(0);
    // The zombie sent its first chunk, then found the epoch moved: nothing was removed.
    expect(await redis.llen(keys.speedOutbox(0))).toBe(2_500);

    owner.drain(0, '2');
    zombie.drain(0, '1');
    await Promise.all([owner.settled(0), zombie.settled(0)]);
    expect(await redis.llen(keys.speedOutbox(0))).toBe(0);
    // Everything the topic holds (at least once: the zombie's chunk is there twice).
    const total = [...(await topicOffsets(kafka, topics.analytics, 'latest')).values()].reduce((n, high) => n + high, 0);
    expect(total).toBeGreaterThanOrEqual(2_500);
    const published = await readTopicMessages(kafka, topics.analytics, total, 60_000);
    const ids = new Set(published.map((m) => (JSON.parse(m.value) as { conversion_event_id: string }).conversion_event_id));
    expect(ids.size).toBe(2_500);
  });

  it('drains a backlog larger than one record batch of a partition may be (one user, 1.5 MB)', async () => {
    const padding = 'p'.repeat(1_000);
    const values = Array.from({ length: 1_500 }, (_, i) => JSON.stringify({ conversion_event_id: `big${i}`, padding }));
    await redis.rpush(keys.speedOutbox(1), ...values.map((value) => JSON.stringify({ key: 'one-user', value })));
    await redis.set(keys.speedEpoch(1), '1');
    const outbox = new AnalyticsOutbox(redis, keys, producer, logger);
    // A drain step sends 1,000 messages of one key (1 MB of values to one partition): the broker
    // refuses a record batch over 1 MiB, so they must go out in produces it takes.
    outbox.drain(1, '1');
    await outbox.settled(1);
    expect(await redis.llen(keys.speedOutbox(1))).toBe(0);
    const total = [...(await topicOffsets(kafka, topics.analytics, 'latest')).values()].reduce((n, high) => n + high, 0);
    const published = (await readTopicMessages(kafka, topics.analytics, total, 60_000)).filter((m) => m.key === 'one-user');
    expect(published.map((m) => m.value)).toEqual(values);
  });
});
