import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { KafkaUnavailableError } from './errors.js';

export interface EventMessage {
  /** Kafka key: the user id, so one user's events stay in one partition, in order. */
  readonly key: string;
  readonly value: string | Buffer;
}

export interface EventProducerOptions {
  /**
   * Idempotent producer (acks=all, one request in flight): no duplicates from the
   * producer's own retries. The collector uses it; bulk loaders may trade it for speed.
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
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * Produces events to one topic and resolves only once Kafka acknowledged them.
 *
 * Concurrent sends are grouped: while one produce request is in flight, later calls queue
 * and go out together in the next request (group commit). An idempotent producer allows one
 * request in flight, so without grouping every HTTP request would wait for a full broker
 * round trip of its own.
 */
export class EventProducer {
  private readonly producer: Producer;
  private readonly timeoutMs: number;
  private readonly compression: CompressionTypes;
  private queued: EventMessage[] = [];
  private waiters: Waiter[] = [];
  private inFlight = false;
  private readonly maxQueued: number;

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
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxQueued = options.maxQueuedMessages ?? 200_000;
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
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
    if (messages.length === 0) return Promise.resolve();
    if (this.queued.length + messages.length > this.maxQueued) {
      return Promise.reject(
        new KafkaUnavailableError(`Kafka is behind: ${this.queued.length} messages already wait for a produce`),
      );
    }
    const done = new Promise<void>((resolve, reject) => {
      for (const m of messages) this.queued.push(m);
      this.waiters.push({ resolve, reject });
    });
    if (!this.inFlight) void this.flush();
    return this.withTimeout(done);
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.queued.length > 0) {
      const messages = this.queued;
      const waiters = this.waiters;
      this.queued = [];
      this.waiters = [];
      try {
        await this.producer.send({ topic: this.topic, acks: -1, compression: this.compression, messages });
        for (const w of waiters) w.resolve();
      } catch (cause) {
        const err = new KafkaUnavailableError(`Kafka refused the produce: ${(cause as Error).message}`, { cause });
        for (const w of waiters) w.reject(err);
      }
    }
    this.inFlight = false;
  }

  private async withTimeout(done: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`Kafka did not acknowledge within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
