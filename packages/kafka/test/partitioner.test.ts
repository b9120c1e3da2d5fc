// A user's events, speed-layer state and signals live in the partition Kafka's Java client (and
// kafkajs before) would pick for the user id: murmur2 of the key's UTF-8 bytes, made positive,
// modulo the partition count. Changing it would move every user to another partition.
import { compatibilityPartitioner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../src/index.js';
import { userKeyPartitioner } from '../src/partitioner.js';

/**
 * murmur2 of keys as Kafka's Java client computes it (`Utils.murmur2`; the values of its own
 * `UtilsTest.testMurmur2`, and of the one-to-five-digit keys other ports check against it).
 */
const javaMurmur2: readonly [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
  ['1', -1993445489],
  ['12', 126087238],
  ['123', -267702483],
  ['1234', -1614185708],
  ['12345', -1188365604],
];

/** Java's `Utils.toPositive(murmur2(key)) % partitions`. */
const javaPartition = (hash: number, partitions: number) => (hash & 0x7fffffff) % partitions;

describe('the partition of a key', () => {
  it("is Java's murmur2 partition of its bytes", () => {
    for (const [key, hash] of javaMurmur2) {
      // Modulo 2^31 the partition is the positive hash itself: every bit of it is compared.
      expect(partitionOf(key, 2 ** 31), key).toBe(hash & 0x7fffffff);
      for (const partitions of [1, 2, 3, 4, 7, 12, 64]) expect(partitionOf(key, partitions), key).toBe(javaPartition(hash, partitions));
    }
  });

  it("is where the producers' partitioner puts it (the producer takes its answer modulo the partition count)", () => {
    for (const [key, hash] of javaMurmur2) expect(userKeyPartitioner(undefined, Buffer.from(key, 'utf8')), key).toBe(hash & 0x7fffffff);
    const keys = [...javaMurmur2.map(([k]) => k), '', 'ü-nicode', '日本', ...Array.from({ length: 2_000 }, (_, i) => `user-${i * 7919}`)];
    for (const key of keys) {
      const hash = userKeyPartitioner(undefined, Buffer.from(key, 'utf8'));
      for (const partitions of [1, 4, 7, 64]) expect(hash % partitions, key).toBe(partitionOf(key, partitions));
      // The Kafka client's own Java-compatible partitioner agrees, key for key.
      expect(compatibilityPartitioner({ topic: 't', key: Buffer.from(key) }, Buffer.from(key, 'utf8')), key).toBe(hash);
    }
  });

  it('puts a message without a key in partition 0', () => {
    expect(userKeyPartitioner(undefined, undefined)).toBe(0);
  });
});
