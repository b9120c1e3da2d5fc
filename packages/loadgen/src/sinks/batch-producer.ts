import { Producer, type MessageToProduce } from '@platformatic/kafka';
import { fixTaggedFieldsReader } from '@sigflow/kafka/data-path';
import { indexStride, type ProduceBatch, type ProduceWorkerReport, type ProduceWorkerSettings } from './produce-protocol.js';

fixTaggedFieldsReader();

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

/**
 * One `@platformatic/kafka` producer sending the batches it is given, in the order given (one
 * connection per broker, requests pipelined; Kafka handles a connection's requests in order),
 * and telling `report` what became of each: the body of a producer thread, or of the sink's
 * own thread when it sends in process.
 */
export class BatchProducer {
  private readonly producer: Producer;

  constructor(
    private readonly settings: ProduceWorkerSettings,
    private readonly report: (report: ProduceWorkerReport) => void,
  ) {
    this.producer = new Producer({
      clientId: settings.clientId,
      bootstrapBrokers: [...settings.brokers],
      serializers: { key: identity, value: identity, headerKey: identity, headerValue: identity },
      acks: settings.acks,
      compression: 'none',
      maxInflights: settings.inFlight,
      timeout: settings.timeoutMs,
      autocreateTopics: false,
      // The sink retries a failed request itself and counts it. The client's own retries (3 by
      // default, and once more on stale metadata) are silent, and without idempotence a request
      // repeated for one partition's NOT_LEADER_OR_FOLLOWER writes its other partitions twice.
      retries: 0,
      ...settings.security,
    });
  }

  /** Reads the topic's metadata and reports `ready` with its partition count, or `fatal`. */
  async start(): Promise<void> {
    try {
      const metadata = await this.producer.metadata({ topics: [this.settings.topic] });
      const partitions = metadata.topics.get(this.settings.topic)?.partitionsCount ?? 0;
      this.report({ type: 'ready', partitions });
    } catch (err) {
      this.report({ type: 'fatal', message: (err as Error).message });
    }
  }

  /** Sends a batch, retrying a failed attempt with backoff; reports `done` once. */
  async send(batch: ProduceBatch): Promise<void> {
    const messages = messagesOf(batch, this.settings.topic);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producer.send({ messages, repeatOnStaleMetadata: false });
        this.report({ type: 'done', id: batch.id, ok: true });
        return;
      } catch (err) {
        const retrying = attempt < this.settings.retries;
        this.report({ type: 'attemptFailed', id: batch.id, message: (err as Error).message, retrying });
        if (!retrying) {
          this.report({ type: 'done', id: batch.id, ok: false });
          return;
        }
        await sleep(Math.min(5_000, 200 * 2 ** attempt));
      }
    }
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}
