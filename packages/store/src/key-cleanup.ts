import type { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix:` (SCAN + UNLINK, so Redis never blocks on a large prefix).
 * For tests, benchmarks and ops cleaning up a run's namespace.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
