import type { Kafka } from 'kafkajs';
import type { Topics } from '@sigflow/events';
import { TopicLayoutError } from './errors.js';

export interface TopicLayout {
  /** Partitions of the events topic (the unit of parallelism). */
  readonly eventPartitions: number;
}

/**
 * Creates the platform's topics if they do not exist; existing topics are left as they
 * are, so calling it again is harmless. Throws {@link TopicLayoutError} when the events topic
 * exists with another partition count than configured: the speed layer places each user's keys
 * by partition, and readers find them by the configured count.
 */
export async function ensureTopics(kafka: Kafka, topics: Topics, layout: TopicLayout): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      { topic: topics.events, numPartitions: layout.eventPartitions },
      { topic: topics.deadLetters, numPartitions: 1 },
      { topic: topics.analytics, numPartitions: layout.eventPartitions },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) {
      await admin.createTopics({
        topics: wanted.map((t) => ({ ...t, replicationFactor: 1 })),
        waitForLeaders: true,
      });
    }
    const [events] = (await admin.fetchTopicMetadata({ topics: [topics.events] })).topics;
    const partitions = events?.partitions.length ?? 0;
    if (partitions !== layout.eventPartitions) throw new TopicLayoutError(topics.events, partitions, layout.eventPartitions);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics (tests clean up their prefixed topics with it). */
export async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}
