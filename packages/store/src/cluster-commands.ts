import type { ChainableCommander, Cluster } from 'ioredis';
import { isCluster, type RedisClient } from './redis-client.js';

/** A command queued by {@link slotSafePipeline} on a cluster: its method name and arguments. */
interface QueuedCommand {
  readonly name: string;
  readonly args: unknown[];
}

function runQueued(cluster: Cluster, command: QueuedCommand): Promise<unknown> {
  const method = (cluster as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[command.name];
  if (typeof method !== 'function') return Promise.reject(new Error(`no Redis command ${command.name}`));
  return method.apply(cluster, command.args);
}

/**
 * A pipeline whose commands may touch keys of any hash slots. On one server it is
 * `redis.pipeline()`. On a Redis Cluster an ioredis pipeline must stay within one slot (or one
 * node); this one sends each command on its own at `exec`, and the client's auto-pipelining
 * batches them per node, so it still costs one round trip per node. Replies come in queue order
 * as `[error, reply]` pairs, like a pipeline's. Not a transaction, as a pipeline is not.
 */
export function slotSafePipeline(redis: RedisClient): ChainableCommander {
  if (!isCluster(redis)) return redis.pipeline();
  const queued: QueuedCommand[] = [];
  const pipe: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_target, prop) {
      if (prop === 'exec') {
        return async () =>
          Promise.all(
            queued.map((c) =>
              runQueued(redis, c).then(
                (reply): [Error | null, unknown] => [null, reply],
                (err: Error): [Error | null, unknown] => [err, null],
              ),
            ),
          );
      }
      if (prop === 'length') return queued.length;
      // Not a promise: `await pipe` must not take it for one.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (...args: unknown[]) => {
        queued.push({ name: prop, args });
        return pipe;
      };
    },
  });
  return pipe;
}

/** The servers keys live on: the one server, or every master of a cluster. */
function keyHolders(redis: RedisClient): RedisClient[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/** Every key matching `pattern` (SCAN; on a cluster, on each master). */
export async function scanKeys(redis: RedisClient, pattern: string, count = 1_000): Promise<string[]> {
  const found: string[] = [];
  for (const node of keyHolders(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** UNLINKs keys of any slots (on a cluster one command per key, auto-pipelined); the number removed. */
export async function unlinkKeys(redis: RedisClient, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!isCluster(redis)) return redis.unlink(...keys);
  const removed = await Promise.all(keys.map((k) => redis.unlink(k)));
  return removed.reduce((a, b) => a + b, 0);
}

/** GETs keys of any slots (MGET on one server), in order. */
export async function getKeys(redis: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (!isCluster(redis)) return redis.mget(...keys);
  return Promise.all(keys.map((k) => redis.get(k)));
}
