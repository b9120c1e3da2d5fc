import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
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
}

/** Produces events to one topic and resolves only once Kafka acknowledged them. */
export class EventProducer {
  private readonly producer: Producer;
  private readonly timeoutMs: number;
  private readonly compression: CompressionTypes;

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
      retry: { retries: idempotent ? 5 : 3 },
    });
    this.timeoutMs = options.timeoutMs ?? 10_000;
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
   * {@link KafkaUnavailableError} when Kafka does not acknowledge in time.
   */
  async send(messages: readonly EventMessage[]): Promise<void> {
    if (messages.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`Kafka did not acknowledge within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([
        this.producer.send({
          topic: this.topic,
          acks: -1,
          compression: this.compression,
          messages: messages as EventMessage[],
        }),
        timeout,
      ]);
    } catch (cause) {
      if (cause instanceof KafkaUnavailableError) throw cause;
      throw new KafkaUnavailableError(`Kafka refused the produce: ${(cause as Error).message}`, { cause });
    } finally {
      clearTimeout(timer);
    }
  }
}
