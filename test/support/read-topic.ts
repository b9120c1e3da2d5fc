import { readTopic, type KafkaClient } from '@sigflow/kafka';

/**
 * Reads `topic` from the start (a consumer group of its own) and collects the JSON values that
 * `keep` accepts, until `done` holds of them; fails after `timeoutMs` saying how many it had.
 */
export async function readTopicUntil(
  kafka: KafkaClient,
  topic: string,
  keep: (value: Record<string, unknown>, key: string | undefined) => boolean,
  done: (values: Record<string, unknown>[]) => boolean,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>[]> {
  const values: Record<string, unknown>[] = [];
  await readTopic(
    kafka,
    topic,
    (message) => {
      const value = JSON.parse(message.value.toString()) as Record<string, unknown>;
      if (keep(value, message.key?.toString())) values.push(value);
      return done(values);
    },
    timeoutMs,
    () => `${topic}: ${values.length} messages, not done`,
  );
  return values;
}
