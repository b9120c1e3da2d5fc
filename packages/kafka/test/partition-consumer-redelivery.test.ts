import { waitForTrue } from '@sigflow/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionConsumer, type PartitionFetch } from '../src/partition-consumer.js';
import { testConsumerOptions, topicWithMessages } from './fixture.js';

// A fault test once lost 15 events in the speed layer after a broker restart: a fetch round
// moved the partitions' positions, then failed (its metadata refresh) before the handler took
// its records, and the next round went on from the moved positions. A round that fails hands
// nothing over: its records come again.
describe('PartitionConsumer after a failed round', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  it('hands the records of a round whose handler threw over again, none skipped', async () => {
    const sent = Array.from({ length: 40 }, (_, i) => ({ value: `m${i}`, partition: i % 2 }));
    const { brokers, topic } = await topicWithMessages('redelivery', 2, sent, cleanup);

    const received: string[] = [];
    let failures = 0;
    // A rebalance (a missed heartbeat on a loaded machine) assigns a partition again; this
    // handler commits nothing, so that partition starts over from its first record.
    const assignments = new Map<number, number>();
    const consumer = new PartitionConsumer(
      testConsumerOptions(brokers, topic, topic),
      {
        assigned: async (partitions) => {
          for (const p of partitions) assignments.set(p, (assignments.get(p) ?? 0) + 1);
          return new Map();
        },
        revoked: async () => undefined,
        records: async (batches: readonly PartitionFetch[]) => {
          // The first round fails once it got its records (as a commit to a store that is down would).
          if (failures++ === 0) throw new Error('the store is down');
          for (const b of batches) for (const v of b.values) received.push(String(v));
        },
      },
    );
    await consumer.start();
    cleanup.push(() => consumer.stop());
    // Every record at least once (a copy from a partition assigned again may come first).
    await waitForTrue('every record handed over', () => new Set(received).size >= sent.length, 30_000, 100);
    expect(failures).toBeGreaterThan(1);
    expect(new Set(received)).toEqual(new Set(sent.map((m) => m.value)));
    const once = sent.filter((m) => assignments.get(m.partition) === 1).map((m) => m.value);
    const count = (v: string) => received.filter((r) => r === v).length;
    // The failed round's records came again, so a copy means its partition started over.
    expect(once.filter((v) => count(v) !== 1), `assignments ${JSON.stringify([...assignments])}`).toEqual([]);
  }, 60_000);
});
