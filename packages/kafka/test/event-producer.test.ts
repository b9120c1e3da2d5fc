import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, deleteTopics, ensureTopics, EventProducer, KafkaProbe, KafkaUnavailableError, partitionOf, readTopicMessages } from '../src/index.js';
import { suiteKafka } from './fixture.js';

describe('kafka wiring against the real broker', () => {
  const { config, kafka, topics } = suiteKafka('kafka');
  let producer: EventProducer;

  beforeAll(async () => {
    await ensureTopics(kafka, topics, { eventPartitions: 4 });
    await ensureTopics(kafka, topics, { eventPartitions: 4 }); // idempotent
    producer = new EventProducer(kafka, topics.events, { clientId: 't-producer', maxQueuedMessages: 5_000 });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(kafka, Object.values(topics));
  });

  it('creates the five topics with the configured partitions', async () => {
    const meta = await kafka.withAdmin((admin) => admin.metadata({ topics: Object.values(topics), forceUpdate: true }));
    expect(Object.fromEntries([...meta.topics].map(([name, t]) => [name, t.partitionsCount]))).toEqual({
      [topics.events]: 4,
      [topics.deadLetters]: 1,
      [topics.analytics]: 4,
      [topics.bidding]: 4,
      [topics.ops]: 1,
    });
  });

  it('delivers concurrent sends once each, keyed where partitionOf says, values byte for byte', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}-é`);
    await Promise.all(
      users.map((u, i) => producer.send([{ key: u, value: i % 2 ? JSON.stringify({ u }) : Buffer.from(JSON.stringify({ u })) }])),
    );
    const read = await readTopicMessages(kafka, topics.events, users.length, 30_000);
    expect(read).toHaveLength(users.length);
    for (const m of read) {
      expect(m.partition, m.key).toBe(partitionOf(m.key, 4));
      expect(JSON.parse(m.value)).toEqual({ u: m.key });
    }
    expect(new Set(read.map((m) => m.key))).toEqual(new Set(users));
    expect(new Set(read.map((m) => m.partition)).size).toBe(4);
  });

  it('refuses at once beyond its queue bound instead of growing memory', async () => {
    const many = Array.from({ length: 5_001 }, (_, i) => ({ key: `k${i}`, value: 'x' }));
    await expect(producer.send(many)).rejects.toBeInstanceOf(KafkaUnavailableError);
  });

  it('fails to connect to a topic that does not exist', async () => {
    const missing = new EventProducer(kafka, `${topics.events}-missing`, { timeoutMs: 1_000 });
    await expect(missing.connect()).rejects.toThrow(/no metadata for topic .*-missing within 1000 ms/);
    await missing.disconnect();
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
