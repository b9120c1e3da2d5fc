import { deleteKeysWithPrefix, type RedisClient } from '@sigflow/store';

/** Deletes every key under a test's prefix (on a cluster, on every master). */
export async function deleteByPrefix(redis: RedisClient, prefix: string): Promise<void> {
  await deleteKeysWithPrefix(redis, prefix);
}

export { waitUntil } from '@sigflow/test-support';
