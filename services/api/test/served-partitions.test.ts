// The partition count the API reads users' keys by: Kafka's, recorded in Redis; while Kafka does
// not answer, the recorded one; and when Kafka answers later with another, the process is told
// to stop (its reads would miss users). Real Kafka and Redis, each run under its own names.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import { servedEventPartitions } from '../src/served-partitions.js';

describe('servedEventPartitions', () => {
  const run = randomUUID().slice(0, 8);
  const config = loadConfig({ ...process.env, SIGFLOW_EVENT_PARTITIONS: '', SIGFLOW_TOPIC_PREFIX: `t-served-${run}-`, SIGFLOW_REDIS_PREFIX: `t-served-${run}` });
  const kafka = createKafka(config.kafka);
  const topics = topicsFor(config.kafka.topicPrefix);
  const redis = createRedis(config.redis);
  const keys = new StoreKeys(config.redis.keyPrefix);
  const logger = createLogger('api-test', 'silent');
  afterAll(async () => {
    await deleteTopics(kafka, Object.values(topics));
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
  });

  it("takes Kafka's count and records it in Redis", async () => {
    await ensureTopics(kafka, topics, { eventPartitions: 3 });
    const served = await servedEventPartitions(config, logger, { onMismatch: (problem) => expect.fail(problem) });
    expect(served.kafka.eventPartitions).toBe(3);
    await expect.poll(() => redis.get(keys.eventPartitions())).toBe('3');
  });

  it('serves by the recorded count when Kafka has not answered in time, and says so when Kafka then has another', async () => {
    await redis.set(keys.eventPartitions(), '7');
    const problems: string[] = [];
    // No grace: Kafka's answer always comes after the start has taken the recorded count.
    const served = await servedEventPartitions(config, logger, { graceMs: 0, onMismatch: (problem) => problems.push(problem) });
    expect(served.kafka.eventPartitions).toBe(7);
    await expect.poll(() => problems, { timeout: 15_000 }).toEqual([
      'the events topic has 3 partitions, not the 7 recorded in Redis this process serves by: stopping, so that a restart reads users by 3',
    ]);
    await expect.poll(() => redis.get(keys.eventPartitions())).toBe('3');
  });

  it('stops the start when SIGFLOW_EVENT_PARTITIONS names another count than the recorded one', async () => {
    await redis.set(keys.eventPartitions(), '7');
    const pinned = { ...config, kafka: { ...config.kafka, eventPartitions: 5, eventPartitionsSet: true } };
    await expect(servedEventPartitions(pinned, logger, { graceMs: 0, onMismatch: () => undefined })).rejects.toThrow('has 7 partitions but SIGFLOW_EVENT_PARTITIONS is 5');
  });
});
