import { partitionOf } from '@sigflow/kafka';

/**
 * The Kafka partition of a key, as the Java-compatible murmur2 partitioner of the producers
 * picks it: the same answer as `partitionOf` from `@sigflow/kafka`, without its per-call
 * allocations (the generator asks once per user). Non-ASCII keys go to `partitionOf`.
 */
export function keyPartition(key: string, partitions: number): number {
  const length = key.length;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    const c0 = key.charCodeAt(i4);
    const c1 = key.charCodeAt(i4 + 1);
    const c2 = key.charCodeAt(i4 + 2);
    const c3 = key.charCodeAt(i4 + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return partitionOf(key, partitions);
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, 0x5bd1e995);
    k ^= k >>> 24;
    k = Math.imul(k, 0x5bd1e995);
    h = Math.imul(h, 0x5bd1e995) ^ k;
  }
  const tail = length & ~3;
  for (let i = tail; i < length; i++) if (key.charCodeAt(i) > 0x7f) return partitionOf(key, partitions);
  const rest = length & 3;
  if (rest === 3) h ^= key.charCodeAt(tail + 2) << 16;
  if (rest >= 2) h ^= key.charCodeAt(tail + 1) << 8;
  if (rest >= 1) {
    h ^= key.charCodeAt(tail);
    h = Math.imul(h, 0x5bd1e995);
  }
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  h ^= h >>> 15;
  return (h & 0x7fffffff) % partitions;
}
