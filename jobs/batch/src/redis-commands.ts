import type { Redis } from 'ioredis';
import type { RedisCommand } from '@sigflow/store';

/**
 * Sends commands in pipelines of `chunk` and throws the first error. Not atomic: callers use it
 * for keys nobody reads yet (a new batch version) or for idempotent cleanup.
 */
export async function sendCommands(redis: Redis, commands: readonly RedisCommand[], chunk = 2_000): Promise<void> {
  for (let i = 0; i < commands.length; i += chunk) {
    const results = await redis.pipeline(commands.slice(i, i + chunk).map(([name, ...args]) => [name.toLowerCase(), ...args])).exec();
    for (const [err] of results ?? []) if (err) throw err;
  }
}
