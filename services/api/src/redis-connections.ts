import type { createRedis } from '@sigflow/store';
import type { SigflowConfig } from '@sigflow/config';

/**
 * Options of the API's request connection (one per process): a command that gets no answer
 * within `api.redisTimeoutMs` fails (503), so a request never hangs on Redis; and no
 * auto-pipelining. ioredis sends no auto-pipeline while another is unanswered, so each
 * request's read waited behind the last batch's round trip: `bench:api`, signals (limit 100),
 * 4 interleaved runs on 2 cores: 10,692 and 10,463 requests/s at p99 7 and 8 ms without it,
 * against 8,692 / 9,840 / 10,140 at p99 17 / 15 / 14 ms with it (API CPU 104-107 against
 * 124-143 µs a request; Redis 26-27 against 19-22, one write per command).
 */
export function requestRedisOptions(config: SigflowConfig): NonNullable<Parameters<typeof createRedis>[1]> {
  return { enableAutoPipelining: false, commandTimeout: config.api.redisTimeoutMs };
}
