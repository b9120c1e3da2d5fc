import type { RedisClient } from './redis-client.js';
import { isCluster } from './redis-client.js';
import { unlinkKeys } from './cluster-commands.js';

/**
 * Deletes every key under `prefix:` (SCAN + UNLINK, so Redis never blocks on a large prefix;
 * on a cluster, on each master). For tests, benchmarks and ops cleaning up a run's namespace.
 */
export async function deleteKeysWithPrefix(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of isCluster(redis) ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // A node's keys are still of many slots: UNLINK them through the cluster client.
      deleted += await unlinkKeys(redis, keys);
    } while (cursor !== '0');
  }
  return deleted;
}
