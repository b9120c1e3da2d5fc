/**
 * A worker thread of the Kafka sink: one `@platformatic/kafka` producer that sends the
 * batches the sink hands over, in the order handed over (one connection per broker, requests
 * pipelined; Kafka handles a connection's requests in order).
 *
 * A batch arrives as one transferred buffer holding every key and value back to back (the
 * values already carry `received_at`) and an index of offsets, so no per-event object crosses
 * the thread boundary and the producer's serializers have nothing left to do.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Producer, type MessageToProduce } from '@platformatic/kafka';
import { indexStride, type ProduceBatch, type ProduceWorkerReport, type ProduceWorkerSettings } from './produce-protocol.js';

const identity = (value: Buffer | undefined): Buffer | undefined => value;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The messages of a batch: views into its buffer, no copies. */
function messagesOf(batch: ProduceBatch, topic: string): MessageToProduce[] {
  const data = Buffer.from(batch.data);
  const index = new Int32Array(batch.index);
  const messages = new Array<MessageToProduce>(batch.count);
  for (let i = 0, j = 0; i < batch.count; i++, j += indexStride) {
    const keyStart = index[j] as number;
    const valueStart = index[j + 1] as number;
    const valueEnd = index[j + 2] as number;
    messages[i] = {
      topic,
      partition: index[j + 3] as number,
      key: data.subarray(keyStart, valueStart),
      value: data.subarray(valueStart, valueEnd),
    };
  }
  return messages;
}

async function sendBatch(producer: Producer, settings: ProduceWorkerSettings, batch: ProduceBatch, port: NonNullable<typeof parentPort>): Promise<void> {
  const messages = messagesOf(batch, settings.topic);
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.send({ messages });
      port.postMessage({ type: 'done', id: batch.id, ok: true } satisfies ProduceWorkerReport);
      return;
    } catch (err) {
      const retrying = attempt < settings.retries;
      port.postMessage({ type: 'attemptFailed', id: batch.id, message: (err as Error).message, retrying } satisfies ProduceWorkerReport);
      if (!retrying) {
        port.postMessage({ type: 'done', id: batch.id, ok: false } satisfies ProduceWorkerReport);
        return;
      }
      await sleep(Math.min(5_000, 200 * 2 ** attempt));
    }
  }
}

async function start(port: NonNullable<typeof parentPort>, settings: ProduceWorkerSettings): Promise<void> {
  const producer = new Producer({
    clientId: settings.clientId,
    bootstrapBrokers: [...settings.brokers],
    serializers: { key: identity, value: identity, headerKey: identity, headerValue: identity },
    acks: settings.acks,
    compression: 'none',
    maxInflights: settings.inFlight,
    timeout: settings.timeoutMs,
    autocreateTopics: false,
  });
  port.on('message', (message: ProduceBatch | { type: 'close' }) => {
    if (message.type === 'batch') void sendBatch(producer, settings, message, port);
    else void producer.close().finally(() => port.close());
  });
  try {
    const metadata = await producer.metadata({ topics: [settings.topic] });
    const partitions = metadata.topics.get(settings.topic)?.partitionsCount ?? 0;
    port.postMessage({ type: 'ready', partitions } satisfies ProduceWorkerReport);
  } catch (err) {
    port.postMessage({ type: 'fatal', message: (err as Error).message } satisfies ProduceWorkerReport);
  }
}

if (parentPort) void start(parentPort, workerData as ProduceWorkerSettings);
