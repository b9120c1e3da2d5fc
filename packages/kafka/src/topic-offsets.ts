import type { Admin } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';

/**
 * Each partition's first offset still in the log (`earliest`) or its end, the offset the next
 * message gets (`latest`, the high watermark), by partition.
 */
export async function partitionOffsets(admin: Admin, topic: string, which: 'earliest' | 'latest'): Promise<Map<number, number>> {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
  const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
  const timestamp = which === 'earliest' ? -2n : -1n;
  const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
  const [answer] = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
  return new Map((answer?.partitions ?? []).map((p) => [p.partitionIndex, Number(p.offset)]));
}

/** {@link partitionOffsets} with an admin client of its own. */
export function topicOffsets(kafka: KafkaClient, topic: string, which: 'earliest' | 'latest'): Promise<Map<number, number>> {
  return kafka.withAdmin((admin) => partitionOffsets(admin, topic, which));
}

/** The offsets consumer group `groupId` committed for `topic`, by partition (partitions without one are absent). */
export function committedOffsets(kafka: KafkaClient, groupId: string, topic: string): Promise<Map<number, number>> {
  return kafka.withAdmin(async (admin) => {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const partitions = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    return new Map(partitions.filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, Number(p.committedOffset)]));
  });
}
