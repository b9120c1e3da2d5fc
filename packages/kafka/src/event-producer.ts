import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { GroupCommit } from './group-commit.js';

export interface EventMessage {
  /** Kafka key: the user id, so one user's events stay in one partition, in order. */
  readonly key: string;
  readonly value: string | Buffer;
}

export interface EventProducerOptions {
  /**
   * Idempotent producer (acks=all, one request in flight): no duplicates from the
   * producer's own retries. Bulk loaders may trade it for speed.
   */
  readonly idempotent?: boolean;
  /** Fail a send that Kafka has not acknowledged within this time. */
  readonly timeoutMs?: number;
  readonly compression?: 'none' | 'gzip';
  /**
   * While Kafka is slow or down, sends beyond this many queued messages fail at once
   * instead of growing memory without bound.
   */
  readonly maxQueuedMessages?: number;
  /** Value bytes of one produce request at most (one send may exceed it). Default 900 000. */
  readonly maxBatchBytes?: number;
}

/**
 * Produces events to one topic through kafkajs and resolves only once Kafka acknowledged them.
 * Concurrent sends are grouped ({@link GroupCommit}): an idempotent producer allows one request
 * in flight, so without grouping every caller would wait for a full broker round trip of its own.
 */
export class EventProducer {
  private readonly producer: Producer;
  private readonly compression: CompressionTypes;
  private readonly group: GroupCommit<EventMessage>;

  constructor(
    kafka: Kafka,
    readonly topic: string,
    options: EventProducerOptions = {},
  ) {
    const idempotent = options.idempotent ?? true;
    this.producer = kafka.producer({
      idempotent,
      maxInFlightRequests: idempotent ? 1 : 5,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // The idempotent producer retries without bound (bounding it voids its guarantees); the
      // timeout below bounds what a caller waits.
      retry: idempotent ? { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 2_000 } : { retries: 3 },
    });
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.group = new GroupCommit((messages) => this.produce(messages), {
      timeoutMs: options.timeoutMs ?? 10_000,
      maxQueuedMessages: options.maxQueuedMessages ?? 200_000,
      maxBatchBytes: options.maxBatchBytes ?? 900_000,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  /**
   * Sends messages with acks from all in-sync replicas. Throws
   * {@link KafkaUnavailableError} when Kafka does not acknowledge in time; the messages
   * must then be treated as not written.
   */
  send(messages: readonly EventMessage[]): Promise<void> {
    return this.group.send(messages);
  }

  private async produce(messages: EventMessage[]): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, compression: this.compression, messages });
  }
}
