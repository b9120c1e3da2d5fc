import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, deleteTopics, ensureTopics, EventProducer, KafkaProbe, KafkaUnavailableError, partitionOf } from '../src/index.js';
import { suiteKafka } from './fixture.js';

describe('kafka wiring against the real broker', () => {
  const { config, kafka, topics } = suiteKafka('kafka');
  let producer: EventProducer;

  beforeAll(async () => {
    await ensureTopics(kafka, topics, { eventPartitions: 4 });
    await ensureTopics(kafka, topics, { eventPartitions: 4 }); // idempotent
    producer = new EventProducer(kafka, topics.events, { maxQueuedMessages: 5_000 });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(kafka, Object.values(topics));
  });

  it('creates the four topics with the configured partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
    await admin.disconnect();
    expect(Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]))).toEqual({
      [topics.events]: 4,
      [topics.deadLetters]: 1,
      [topics.analytics]: 4,
      [topics.bidding]: 4,
    });
  });

  it('delivers concurrent sends and places each key where partitionOf says', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    await Promise.all(users.map((u) => producer.send([{ key: u, value: JSON.stringify({ u }) }])));
    const consumer = kafka.consumer({ groupId: `t-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.events, fromBeginning: true });
    const seen = new Map<string, number>();
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.set(message.key!.toString(), partition);
          if (seen.size === users.length) resolve();
        },
      });
    });
    await consumer.disconnect();
    for (const u of users) expect(seen.get(u), u).toBe(partitionOf(u, 4));
    expect(new Set(seen.values()).size).toBe(4);
  });

  it('refuses at once beyond its queue bound instead of growing memory', async () => {
    const many = Array.from({ length: 5_001 }, (_, i) => ({ key: `k${i}`, value: 'x' }));
    await expect(producer.send(many)).rejects.toBeInstanceOf(KafkaUnavailableError);
  });

  it('reports the broker reachable', async () => {
    const probe = new KafkaProbe(kafka);
    expect(await probe.reachable()).toBe(true);
    await probe.close();
    const nowhere = new KafkaProbe(createKafka({ ...config.kafka, brokers: ['127.0.0.1:1'], connectionTimeoutMs: 200 }, { retries: 0 }), 500);
    expect(await nowhere.reachable()).toBe(false);
    await nowhere.close();
  });
});
