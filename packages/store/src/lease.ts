import type { RedisClient } from './redis-client.js';
import { LuaScript } from './lua-script.js';

/** Takes or renews a lease: KEYS[1] = lease, ARGV = owner, ttl ms. 1 when the caller holds it now. */
const leaseScript = new LuaScript(`
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/** Takes or renews the lease `key` for `ttlMs`: true while `owner` holds it (one instance works at a time). */
export async function holdLease(redis: RedisClient, key: string, owner: string, ttlMs: number): Promise<boolean> {
  return (await leaseScript.run(redis, [key], [owner, ttlMs])) === 1;
}

/** Gives the lease up if `owner` holds it (a graceful stop: the next instance takes over at once). */
const releaseScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
`);

/** Releases the lease `key` if `owner` holds it. */
export async function releaseLease(redis: RedisClient, key: string, owner: string): Promise<void> {
  await releaseScript.run(redis, [key], [owner]);
}
