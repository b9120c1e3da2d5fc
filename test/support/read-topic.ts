import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

/**
 * Reads `topic` from the start (a consumer group of its own) and collects the JSON values that
 * `keep` accepts, until `done` holds of them; fails after `timeoutMs` saying how many it had.
 */
export async function readTopicUntil(
  kafka: Kafka,
  topic: string,
  keep: (value: Record<string, unknown>, key: string | undefined) => boolean,
  done: (values: Record<string, unknown>[]) => boolean,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>[]> {
  const consumer = kafka.consumer({ groupId: `read-${randomUUID()}` });
  const values: Record<string, unknown>[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic}: ${values.length} messages, not done`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const value = JSON.parse(message.value!.toString()) as Record<string, unknown>;
          if (keep(value, message.key?.toString())) values.push(value);
          if (done(values)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}
