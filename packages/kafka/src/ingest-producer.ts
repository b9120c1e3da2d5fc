import { compatibilityPartitioner, Producer } from '@platformatic/kafka';
import './tagged-fields.js';
import type { EventMessage } from './event-producer.js';
import { KafkaUnavailableError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import type { ConnectionSecurity } from './connection-security.js';

export interface IngestProducerOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topic: string;
  /** Fail a send that Kafka has not acknowledged within this time. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Connecting to a broker fails after this long. Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Sends beyond this many queued messages fail at once. Default 200 000. */
  readonly maxQueuedMessages?: number;
  /** Value bytes of one produce request at most (one send may exceed it). Default 900 000. */
  readonly maxBatchBytes?: number;
  /** TLS and SASL (`connectionSecurity` of the configuration); none by default. */
  readonly security?: ConnectionSecurity;
}

const toBuffer = (value?: string | Buffer): Buffer | undefined => (typeof value === 'string' ? Buffer.from(value) : value);

/**
 * The collector's producer, on `@platformatic/kafka` (it spends about a third of kafkajs's CPU
 * per message; see the README): idempotent (acks from all in-sync replicas, one produce in
 * flight, sequence numbers so its own retries never write a message twice), retrying a failed
 * produce until it succeeds as kafkajs's idempotent producer does, keys placed by the
 * Java-compatible murmur2 partitioner (the partition kafkajs and {@link partitionOf} pick),
 * concurrent sends grouped ({@link GroupCommit}). A send resolves only once Kafka acknowledged
 * its messages and fails with `KafkaUnavailableError` after `timeoutMs`.
 */
export class IngestProducer {
  readonly topic: string;
  private readonly timeoutMs: number;
  private readonly producer: Producer<string | Buffer, string | Buffer, string | Buffer, string | Buffer>;
  private readonly group: GroupCommit<EventMessage>;

  constructor(options: IngestProducerOptions) {
    this.topic = options.topic;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.producer = new Producer({
      clientId: options.clientId,
      bootstrapBrokers: [...options.brokers],
      idempotent: true,
      compression: 'none',
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
      // Retry without bound, with the same sequence numbers (the broker drops a copy it has);
      // the group commit's timeout bounds what a caller waits.
      retries: true,
      retryDelay: 500,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      serializers: { key: toBuffer, value: toBuffer, headerKey: toBuffer, headerValue: toBuffer },
      ...options.security,
    });
    this.group = new GroupCommit((messages) => this.produce(messages), {
      timeoutMs: this.timeoutMs,
      maxQueuedMessages: options.maxQueuedMessages ?? 200_000,
      maxBatchBytes: options.maxBatchBytes ?? 900_000,
    });
  }

  /**
   * Fetches the topic's metadata; fails when Kafka does not answer with it within the send
   * timeout (unreachable, or the topic is missing).
   */
  async connect(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KafkaUnavailableError(`no metadata for topic ${this.topic} within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([this.producer.metadata({ topics: [this.topic], forceUpdate: true }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits for the produces in flight and queued (requests a closing server still answers),
   * at most the send timeout, then closes.
   */
  async disconnect(): Promise<void> {
    await this.group.idle(this.timeoutMs);
    await this.producer.close();
  }

  /** Sends messages; resolves once Kafka acknowledged all of them. */
  send(messages: readonly EventMessage[]): Promise<void> {
    return this.group.send(messages);
  }

  private async produce(messages: EventMessage[]): Promise<void> {
    const topic = this.topic;
    await this.producer.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) });
  }
}
