/**
 * Kafka did not acknowledge a produce in time or refused it. The caller must treat the
 * messages as NOT written (they may or may not be; the idempotent producer makes a
 * client-side retry of the same request safe).
 */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The events topic exists with a partition count other than the configured one. */
export class TopicLayoutError extends Error {
  override readonly name = 'TopicLayoutError';
  constructor(
    readonly topic: string,
    readonly found: number,
    readonly configured: number,
  ) {
    super(`topic ${topic} has ${found} partitions but SIGFLOW_EVENT_PARTITIONS is ${configured}: set it to ${found}`);
  }
}
