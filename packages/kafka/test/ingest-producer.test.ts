import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics, ensureTopics, KafkaUnavailableError, partitionOf, readTopicMessages } from '../src/index.js';
import { IngestProducer } from '../src/data-path.js';
import { suiteKafka } from './fixture.js';

describe('IngestProducer against the real broker', () => {
  const { config, kafka, topics } = suiteKafka('ingest');
  let producer: IngestProducer;

  beforeAll(async () => {
    await ensureTopics(kafka, topics, { eventPartitions: 4 });
    producer = new IngestProducer({ brokers: config.kafka.brokers, clientId: 't-ingest', topic: topics.events, maxQueuedMessages: 5_000 });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(kafka, Object.values(topics));
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
    const missing = new IngestProducer({ brokers: config.kafka.brokers, clientId: 't-ingest', topic: `${topics.events}-missing`, timeoutMs: 1_000 });
    await expect(missing.connect()).rejects.toThrow(/no metadata for topic .*-missing within 1000 ms/);
    await missing.disconnect();
  });
});
