import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

/** One message as read back. */
export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly value: string;
}

/**
 * Reads `topic` from the beginning with a throwaway consumer group until `count` messages
 * arrived; throws when they have not within `timeoutMs`. For tests and tools that check what
 * a topic holds.
 */
export async function readTopicMessages(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            messages.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString('utf8') ?? '', value: m.value?.toString('utf8') ?? '' });
          }
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
