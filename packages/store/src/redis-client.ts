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
