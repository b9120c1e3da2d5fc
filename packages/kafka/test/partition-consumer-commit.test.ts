import { waitUntil } from '@sigflow/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionConsumer, type PartitionFetch } from '../src/partition-consumer.js';
import { testConsumerOptions, topicWithMessages } from './fixture.js';

/** A fetch's wait for records, long enough that a commit queued behind it shows. */
const LONG_FETCH_WAIT_MS = 4_000;

// The archiver commits its offsets after every flush. A broker answers one connection's
// requests in order: when the fetches shared the group's connection, a commit waited behind a
// fetch waiting for records (commits of 251-382 ms at the shipped 500 ms wait, once the topic
// was drained). Fetches have connections of their own now.
describe('PartitionConsumer commits while a fetch waits for records', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('commits at once, not after the waiting fetch, and the offsets are stored', async () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: i % 2 }));
    const { brokers, topic } = await topicWithMessages('commit-wait', 2, messages, cleanup);

    const next = new Map<number, number>();
    const consumer = new PartitionConsumer(
      { ...testConsumerOptions(brokers, topic, topic), maxWaitMs: LONG_FETCH_WAIT_MS },
      {
        assigned: async () => new Map(),
        revoked: async () => undefined,
        records: (batches: readonly PartitionFetch[]) => {
          for (const b of batches) next.set(b.partition, b.nextOffset);
        },
      },
    );
    await consumer.start();
    cleanup.push(() => consumer.stop());
    // The next offsets handed over by partition: a failure says which partition stayed behind.
    await waitUntil('all ten records handed over', () => Object.fromEntries(next), (n) => (n[0] ?? 0) + (n[1] ?? 0) === 10, 30_000, 50);
    // The topic is drained: every fetch from now on waits LONG_FETCH_WAIT_MS for records.
    await new Promise((r) => setTimeout(r, 300));

    // Behind the fetches, each commit would wait for the one in flight, and the loop sends the
    // next at once: three commits would take two waits or more.
    const started = performance.now();
    for (let i = 0; i < 3; i++) await consumer.commit(next);
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(LONG_FETCH_WAIT_MS / 2);
    expect(await consumer.committed([0, 1])).toEqual(new Map([[0, 5], [1, 5]]));
  }, 60_000);
});
