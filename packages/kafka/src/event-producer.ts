import { Producer, ProduceAcks } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';
import { KafkaUnavailableError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { userKeyPartitioner } from './partitioner.js';

export interface EventMessage {
  /** Kafka key: the user id, so one user's events stay in one partition, in order. */
  readonly key: string;
  readonly value: string | Buffer;
}

export interface EventProducerOptions {
  /**
   * Idempotent producer (default true): one produce in flight, sequence numbers so its own
   * retries never write a message twice, retried until acknowledged. Bulk loaders may trade it
   * for speed (then 3 retries and up to 5 produces in flight). Acks come from all in-sync
   * replicas either way.
   */
  readonly idempotent?: boolean;
  /** Fail a send that Kafka has not acknowledged within this time. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Sends beyond this many queued messages fail at once. Default 200 000. */
  readonly maxQueuedMessages?: number;
  /** Value bytes of one produce request at most (a larger send goes out in several). Default 900 000. */
  readonly maxBatchBytes?: number;
  /**
   * Messages of one produce request at most (a larger send goes out in several). Default 1,500: past about
   * 2,000 records a request, `@platformatic/kafka` 1.35 spends 2-3 times as much CPU a record
   * building it (its buffer lists outgrow V8's regular heap objects; measured in the README's
   * "Choices": the collector's CPU an event 7.8-8.3 µs with it against 9.7-10.7 without).
   */
  readonly maxBatchMessages?: number;
  /** Overrides the client's id (the collector names its dead-letter producer apart). */
  readonly clientId?: string;
}

const toBuffer = (value?: string | Buffer): Buffer | undefined => (typeof value === 'string' ? Buffer.from(value) : value);

/**
 * Produces events to one topic and resolves only once Kafka acknowledged them: the collector's
 * events and dead letters, the speed layer's dead letters and analytics, the bidding and ops
 * records. On `@platformatic/kafka` (it spends about a third of kafkajs's CPU per message; see
 * the README), acks from all in-sync replicas, keys placed by the Java-compatible murmur2
 * partitioner (the partition {@link partitionOf} names), concurrent sends grouped
 * ({@link GroupCommit}): an idempotent producer allows one request in flight, so without
 * grouping every caller would wait for a full broker round trip of its own. A send fails with
 * `KafkaUnavailableError` after `timeoutMs`.
 */
export class EventProducer {
  private readonly timeoutMs: number;
  private readonly producer: Producer<string | Buffer, string | Buffer, string | Buffer, string | Buffer>;
  private readonly group: GroupCommit<EventMessage>;

  constructor(
    kafka: KafkaClient,
    readonly topic: string,
    options: EventProducerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const idempotent = options.idempotent ?? true;
    this.producer = kafka.watch(
      new Producer({
        ...kafka.options({ clientId: options.clientId ?? kafka.clientId }),
        idempotent,
        acks: ProduceAcks.ALL,
        compression: 'none',
        partitioner: userKeyPartitioner,
        autocreateTopics: false,
        // The idempotent producer retries without bound, with the same sequence numbers (the
        // broker drops a copy it has); the group commit's timeout bounds what a caller waits.
        ...(idempotent ? { retries: true, retryDelay: 500 } : { retries: 3 }),
        serializers: { key: toBuffer, value: toBuffer, headerKey: toBuffer, headerValue: toBuffer },
      }),
    );
    this.group = new GroupCommit((messages) => this.produce(messages), {
      timeoutMs: this.timeoutMs,
      maxQueuedMessages: options.maxQueuedMessages ?? 200_000,
      maxBatchBytes: options.maxBatchBytes ?? 900_000,
      maxBatchMessages: options.maxBatchMessages ?? 1_500,
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

  /**
   * Sends messages; resolves once Kafka acknowledged all of them. Throws
   * {@link KafkaUnavailableError} when Kafka does not acknowledge in time; the messages
   * must then be treated as not written.
   */
  send(messages: readonly EventMessage[]): Promise<void> {
    return this.group.send(messages);
  }

  private async produce(messages: EventMessage[]): Promise<void> {
    const topic = this.topic;
    await this.producer.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) });
  }
}
