import { waitForTrue } from '@sigflow/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createKafka } from '../src/index.js';
import { MIN_PARTITION_BYTES, PartitionConsumer, type PartitionFetch } from '../src/partition-consumer.js';
import { producePlaced, testConsumerOptions, topicWithMessages } from './fixture.js';

// Without maxBytesPerPartition, a round's maxBytes is shared by the partitions the member owns:
// a process given 32 partitions fetched 32 times a 4-partition round, and its rounds' heap with it.
describe('PartitionConsumer sharing a round between its partitions', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('asks each partition its share of the round, so every partition has records in the first round and the round stays near maxBytes', async () => {
    const PARTITIONS = 4;
    const value = 'x'.repeat(1_000);
    // 4 partitions of 400 messages of 1 kB: 1.6 MB, against a round of 4 shares of 64 kB.
    const sent = Array.from({ length: 1_600 }, (_, i) => ({ value: `${i}:${value}`, partition: i % PARTITIONS }));
    // Sent 40 at a time: batches of about 10 kB a partition (a broker answers whole batches).
    const { brokers, topic } = await topicWithMessages('share', PARTITIONS, sent.slice(0, 40), cleanup);
    const kafka = createKafka(loadConfig().kafka);
    for (let i = 40; i < sent.length; i += 40) await producePlaced(kafka, topic, sent.slice(i, i + 40));
    const rounds: { partitions: number[]; bytes: number }[] = [];
    let received = 0;
    const consumer = new PartitionConsumer(
      { ...testConsumerOptions(brokers, topic, topic), maxBytesPerPartition: undefined, maxBytes: PARTITIONS * MIN_PARTITION_BYTES },
      {
        assigned: async () => new Map(),
        revoked: async () => undefined,
        records: async (batches: readonly PartitionFetch[]) => {
          rounds.push({ partitions: batches.map((b) => b.partition).sort(), bytes: batches.reduce((n, b) => n + b.values.reduce((m, v) => m + (v?.length ?? 0), 0), 0) });
          received += batches.reduce((n, b) => n + b.values.length, 0);
        },
      },
    );
    await consumer.start();
    cleanup.push(() => consumer.stop());
    await waitForTrue('every record handed over', () => received >= sent.length, 30_000, 100);
    expect(rounds[0]?.partitions).toEqual([0, 1, 2, 3]);
    // A share holds about 64 kB of values (a broker answers whole batches: some more).
    expect(Math.max(...rounds.map((r) => r.bytes))).toBeLessThan(2 * PARTITIONS * MIN_PARTITION_BYTES);
    expect(rounds.length).toBeGreaterThanOrEqual(Math.floor((sent.length * 1_000) / (2 * PARTITIONS * MIN_PARTITION_BYTES)));
  }, 60_000);
});
