import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

/**
 * A Lua script run by its SHA1 (EVALSHA), sent whole (EVAL) only when the server does not have
 * it yet (NOSCRIPT: first use, or after a Redis restart). Keys are declared, so it runs on a
 * Redis Cluster as long as they share a hash slot.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    // One array argument: spreading a big commit's words into the call would exceed V8's
    // argument limit (RangeError: Maximum call stack size exceeded).
    const argv: (string | number | Buffer)[] = [this.sha, keys.length];
    for (const k of keys) argv.push(k);
    for (const a of args) argv.push(a);
    try {
      return await redis.call('EVALSHA', argv);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      argv[0] = this.source;
      return redis.call('EVAL', argv);
    }
  }
}
