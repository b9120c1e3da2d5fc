import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '@sigflow/config';

/**
 * A Redis client for the configured URL. Commands wait (queue) while Redis is unreachable and
 * are retried on reconnect; `maxRetriesPerRequest` bounds how long a caller waits before an
 * error, so a service answers "not ready" instead of hanging.
 */
export function createRedis(config: RedisConfig, options: RedisOptions = {}): Redis {
  return new Redis(config.url, {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    ...options,
  });
}

/**
 * Readiness probes: true when Redis answers PING within `timeoutMs`. A frozen or partitioned
 * Redis keeps the connection open and never answers, so a bare `ping()` would hang the probe.
 */
export async function redisAnswers(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
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
