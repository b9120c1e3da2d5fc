import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@sigflow/config';
import { waitForTrue } from '@sigflow/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { startKafkaBroker, stopKafkaBroker } from '../../../infra/kafka/broker.mjs';
import { freePort } from '../../../infra/lib/process.mjs';
import { PartitionConsumer, type PartitionFetch } from '../src/partition-consumer.js';
import { createKafka } from '../src/index.js';
import { producePlaced, testConsumerOptions } from './fixture.js';

// A service may start before its broker answers, or beside a fresh broker whose group
// coordinator does not exist yet (`__consumer_offsets` is created by the first join): the
// consumer waits for it instead of failing its start (a CI run lost the speed layer that way).
describe('PartitionConsumer start', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  describe('when the broker starts after the consumer', () => {
    it('joins once the broker and the topic exist, and hands over what is produced', async () => {
      const [port, controllerPort] = [await freePort(), await freePort()];
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-kafka-late-'));
      cleanup.push(async () => {
        await stopKafkaBroker({ dir, signal: 'SIGKILL', graceMs: 5_000 });
        fs.rmSync(dir, { recursive: true, force: true });
      });
      const received: string[] = [];
      const consumer = new PartitionConsumer(
        testConsumerOptions([`127.0.0.1:${port}`], 'late-broker', 'late.v1'),
        {
          assigned: async () => new Map(),
          revoked: async () => undefined,
          records: (batches: readonly PartitionFetch[]) => {
            for (const b of batches) for (const v of b.values) received.push(String(v));
          },
        },
      );
      const started = consumer.start();
      cleanup.push(() => consumer.stop());
      // Nothing answers on the port yet: the start must still be waiting, not failed.
      const early = await Promise.race([started.then(() => 'joined', (err: unknown) => `failed: ${String(err)}`), sleep(1_500).then(() => 'waiting')]);
      expect(early).toBe('waiting');

      await startKafkaBroker({ dir, port, controllerPort, heap: '256m', log: () => undefined });
      const kafka = createKafka(loadConfig({ SIGFLOW_KAFKA_BROKERS: `127.0.0.1:${port}` }).kafka);
      await kafka.withAdmin((admin) => admin.createTopics({ topics: ['late.v1'], partitions: 2 }));
      await started;
      expect(consumer.inGroup).toBe(true);
      // The fetch loop takes the assignment over (both partitions: the only member).
      await waitForTrue('both partitions taken over', () => consumer.partitions.length === 2, 20_000, 100);
      expect(consumer.partitions).toEqual([0, 1]);

      await producePlaced(kafka, 'late.v1', [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }]);
      await waitForTrue('both records handed over', () => received.length >= 2, 20_000, 100);
      expect(received.sort()).toEqual(['a', 'b']);
    }, 120_000);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
