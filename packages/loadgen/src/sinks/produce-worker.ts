/**
 * A producer thread of the Kafka sink: a {@link BatchProducer} fed over the thread's port.
 *
 * A batch arrives as one transferred buffer holding every key and value back to back (the
 * values already carry `received_at`) and an index of offsets, so no per-event object crosses
 * the thread boundary and the producer's serializers have nothing left to do.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchProducer } from './batch-producer.js';
import type { ProduceBatch, ProduceWorkerSettings } from './produce-protocol.js';

if (parentPort) {
  const port = parentPort;
  const producer = new BatchProducer(workerData as ProduceWorkerSettings, (report) => port.postMessage(report));
  port.on('message', (message: ProduceBatch | { type: 'close' }) => {
    if (message.type === 'batch') void producer.send(message);
    else void producer.close().finally(() => port.close());
  });
  void producer.start();
}
