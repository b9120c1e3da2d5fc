import { randomUUID } from 'node:crypto';
import { Consumer, MessagesStreamModes, type Message } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';

/** One message as read back. */
export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly value: string;
}

/** What {@link readTopic} does with each message: true once it has read enough. */
export type TakeMessage = (message: Message) => boolean;

/**
 * Reads `topic` from the beginning, in a consumer group of its own that commits nothing, handing
 * each message to `take` until it answers true. Throws when that has not happened within
 * `timeoutMs`, with the message `describe` gives then.
 */
export async function readTopic(kafka: KafkaClient, topic: string, take: TakeMessage, timeoutMs: number, describe: () => string): Promise<void> {
  const consumer = kafka.watch(new Consumer({ ...kafka.options(), groupId: `reader-${randomUUID()}`, maxWaitTime: 200 }));
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err instanceof Error ? err : new Error(String(err)));
      };
      const timer = setTimeout(() => finish(new Error(describe())), timeoutMs);
      stream.on('data', (message: Message) => {
        if (!done && take(message)) finish();
      });
      stream.on('error', finish);
    });
  } finally {
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  }
}

/**
 * Reads `topic` from the beginning until `count` messages arrived; throws when they have not
 * within `timeoutMs`. For tests and tools that check what a topic holds.
 */
export async function readTopicMessages(kafka: KafkaClient, topic: string, count: number, timeoutMs = 30_000): Promise<ReadMessage[]> {
  const messages: ReadMessage[] = [];
  if (count <= 0) return messages;
  await readTopic(
    kafka,
    topic,
    (m) => {
      messages.push({ partition: m.partition, offset: String(m.offset), key: m.key?.toString('utf8') ?? '', value: m.value?.toString('utf8') ?? '' });
      return messages.length >= count;
    },
    timeoutMs,
    () => `read ${messages.length} of ${count} messages from ${topic} in ${timeoutMs} ms`,
  );
  return messages;
}
