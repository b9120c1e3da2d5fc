import fs from 'node:fs';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '@sigflow/config';

/**
 * A connection to the platform's Redis: one server, or a Redis Cluster
 * (`SIGFLOW_REDIS_CLUSTER_NODES`). Both take the same commands; on a cluster every multi-key
 * command, script, transaction and pipeline must stay within one hash slot (the key layout's
 * hash tags see to it, see `StoreKeys`).
 */
export type RedisClient = Redis | Cluster;

/** True when the client talks to a Redis Cluster. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/** Credentials and TLS of every connection, from the configuration (a URL's own user and password are the defaults). */
function connectionOptions(config: RedisConfig): RedisOptions {
  const tls = config.tls ? { tls: config.tlsCaFile === '' ? {} : { ca: [fs.readFileSync(config.tlsCaFile)] } } : {};
  return {
    ...(config.username === '' ? {} : { username: config.username }),
    ...(config.password === '' ? {} : { password: config.password }),
    ...tls,
  };
}

/** The options that belong to the cluster client rather than to its per-node connections. */
const clusterLevel = ['lazyConnect', 'enableOfflineQueue', 'enableReadyCheck', 'enableAutoPipelining', 'keyPrefix'] as const;

function createCluster(config: RedisConfig, options: RedisOptions): Cluster {
  const nodes = config.clusterNodes.map((node) => {
    const at = node.lastIndexOf(':');
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
  const clusterOptions: ClusterOptions = {
    // A failover takes the cluster node timeout and a vote: commands wait for it (queued) rather than fail.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    // Slot changes (a failover) are found by the MOVED replies and by refreshing the slot map this often.
    slotsRefreshInterval: 2_000,
    redisOptions: { ...options },
  };
  for (const name of clusterLevel) {
    if (options[name] !== undefined) (clusterOptions as Record<string, unknown>)[name] = options[name];
    delete (clusterOptions.redisOptions as Record<string, unknown>)[name];
  }
  return new Cluster(nodes, clusterOptions);
}

/**
 * A Redis client for the configuration: a `Cluster` when `redis.clusterNodes` lists nodes, else
 * one `Redis` for the URL; with the configured ACL user, password and TLS either way. Commands
 * wait (queue) while Redis is unreachable and are retried on reconnect; `maxRetriesPerRequest`
 * bounds how long a caller waits before an error, so a service answers "not ready" instead of
 * hanging.
 */
export function createRedis(config: RedisConfig, options: RedisOptions = {}): RedisClient {
  const merged: RedisOptions = {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    ...connectionOptions(config),
    ...options,
  };
  return config.clusterNodes.length > 0 ? createCluster(config, merged) : new Redis(config.url, merged);
}

/**
 * Readiness probes: true when Redis answers PING within `timeoutMs`. A frozen or partitioned
 * Redis keeps the connection open and never answers, so a bare `ping()` would hang the probe.
 */
export async function redisAnswers(redis: RedisClient, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, '');
  });
  try {
    return (await Promise.race([redis.ping().catch(() => ''), timeout])) === 'PONG';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A new client to the same Redis (or cluster) with some options changed: a connection of its
 * own, e.g. without auto-pipelining for the speed layer's commits.
 */
export function duplicateClient(redis: RedisClient, options: Pick<RedisOptions, 'enableAutoPipelining' | 'maxRetriesPerRequest' | 'commandTimeout'>): RedisClient {
  if (!isCluster(redis)) return redis.duplicate(options);
  const { enableAutoPipelining, ...perNode } = options;
  return redis.duplicate([], {
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    redisOptions: { ...redis.options.redisOptions, ...perNode },
  });
}
