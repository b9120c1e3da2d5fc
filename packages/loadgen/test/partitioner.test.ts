import { describe, expect, it } from 'vitest';
import { partitionOf } from '@sigflow/kafka';
import { keyPartition } from '../src/partitioner.js';
import { Prng } from '../src/prng.js';

describe('keyPartition', () => {
  it('agrees with partitionOf (the Java-compatible default partitioner of Kafka) on many keys and partition counts', () => {
    const rng = new Prng(1);
    for (let i = 0; i < 20_000; i++) {
      const key = `u${rng.int(0, 1e9).toString(36)}-${'xyz'.slice(0, i % 4)}${i}`;
      for (const partitions of [1, 2, 3, 4, 7, 12, 64]) expect(keyPartition(key, partitions)).toBe(partitionOf(key, partitions));
    }
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'ü-nicode', '日本']) expect(keyPartition(key, 5)).toBe(partitionOf(key, 5));
  });
});
