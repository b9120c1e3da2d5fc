import { userPartition } from '@sigflow/events';

/**
 * The partition Kafka's default (Java-compatible murmur2) partitioner picks for a key: where the
 * producers put a user's events. Lets the generator know which events share a partition.
 */
export function partitionOf(key: string, partitions: number): number {
  return userPartition(key, partitions);
}
