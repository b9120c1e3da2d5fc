/**
 * Kafka's default partitioner (murmur2 of the key, as the Java client and the producers'
 * `compatibilityPartitioner` of `@platformatic/kafka` compute it): events are keyed by
 * `user_id`, so this says which partition holds a user's events, and with them the user's
 * speed-layer state and signals. Readers use it to find a user's keys without asking Kafka.
 */
export function userPartition(userId: string, partitions: number): number {
  return userKeyHash(Buffer.from(userId, 'utf8')) % partitions;
}

/** The positive murmur2 of a key's bytes: what Kafka's default partitioner takes modulo the partition count. */
export function userKeyHash(key: Buffer): number {
  return murmur2(key) & 0x7fffffff;
}

/** Kafka's murmur2 (seed 0x9747b28c) of a key's bytes, as a signed 32-bit integer. */
function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= (data[whole + 2] as number) << 16;
  if (tail >= 2) h ^= (data[whole + 1] as number) << 8;
  if (tail >= 1) h = Math.imul(h ^ (data[whole] as number), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
