import type { EventProducer } from '@sigflow/kafka';
import type { Logger } from '@sigflow/observability';
import type { DeadLetter } from './round-types.js';
import type { SpeedMetrics } from './speed-metrics.js';

/**
 * Sends the messages of a partition that failed decoding to the dead-letter topic, keyed by
 * where they were (`<topic>:<partition>:<offset>`), with the reason and the payload's start.
 * Before the round's commit: a crash in between sends them again (the topic is at-least-once).
 */
export class DeadLetterPublisher {
  constructor(
    private readonly producer: EventProducer,
    /** The topic the messages were read from. */
    private readonly topic: string,
    private readonly metrics: SpeedMetrics,
    private readonly logger: Logger,
  ) {}

  async send(partition: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    const topic = this.topic;
    await this.producer.send(
      deadLetters.map((d) => ({
        key: `${topic}:${partition}:${d.offset}`,
        value: JSON.stringify({ topic, partition, offset: d.offset, reason: d.reason, payload: d.payload, failed_at: Date.now() }),
      })),
    );
    this.metrics.deadLetters.inc(deadLetters.length);
    this.logger.warn({ partition, count: deadLetters.length, first: deadLetters[0] }, 'messages sent to the dead-letter topic');
  }
}
