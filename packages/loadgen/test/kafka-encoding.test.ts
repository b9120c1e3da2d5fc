import { describe, expect, it } from 'vitest';
import { partitionOf } from '@sigflow/kafka';
import { keyPartition } from '../src/partitioner.js';
import { Prng } from '../src/prng.js';
import { crc32c } from '../src/sinks/crc32c.js';

describe('keyPartition', () => {
  it('agrees with partitionOf (kafkajs default partitioner) on many keys and partition counts', () => {
    const rng = new Prng(1);
    for (let i = 0; i < 20_000; i++) {
      const key = `u${rng.int(0, 1e9).toString(36)}-${'xyz'.slice(0, i % 4)}${i}`;
      for (const partitions of [1, 2, 3, 4, 7, 12, 64]) expect(keyPartition(key, partitions)).toBe(partitionOf(key, partitions));
    }
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'ü-nicode', '日本']) expect(keyPartition(key, 5)).toBe(partitionOf(key, 5));
  });
});

describe('crc32c', () => {
  it('gives the standard check value and handles any length and offset', () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    const data = Buffer.from('xx123456789yy');
    expect(crc32c(data, 2, 11)).toBe(0xe3069283);
  });
});
