import { Partitioners } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition kafkajs's default (Java-compatible murmur2) partitioner picks for a key.
 * Lets the generator know which events share a partition, for partition-local rules.
 */
export function partitionOf(key: string, partitions: number): number {
  return partitioner({
    topic: 'any',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({
      partitionErrorCode: 0,
      partitionId: i,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
    })),
    message: { key, value: null },
  });
}
