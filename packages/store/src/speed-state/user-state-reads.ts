import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';
import { LuaScript } from '../lua-script.js';

/**
 * Reads the durable state of several users of one partition in one command: per user its
 * snapshot, the length of its signal log and the newest `newest` signals (skipped for an empty
 * log: a new user costs two lookups). KEYS = (snapshot, signals) per user; ARGV[1] = newest.
 */
const readScript = new LuaScript(`
local out = {}
local newest = tonumber(ARGV[1])
for i = 1, #KEYS, 2 do
  local snapshot = redis.call('GET', KEYS[i])
  local length = redis.call('LLEN', KEYS[i + 1])
  local signals = {}
  if length > 0 then signals = redis.call('LRANGE', KEYS[i + 1], 0, newest - 1) end
  out[#out + 1] = { snapshot, length, signals }
end
return out
`);

/** One user's stored state: core's `restoreUserState` turns it into the keyed state. */
export interface StoredUserState {
  readonly snapshot: string | null;
  readonly logLength: number;
  /** The newest signals, newest first. */
  readonly newest: string[];
}

/** The stored states of `userIds` (all of partition `partition`), in their order. */
export async function readStoredUserStates(
  redis: RedisClient,
  keys: StoreKeys,
  partition: number,
  userIds: readonly string[],
  newest: number,
): Promise<StoredUserState[]> {
  if (userIds.length === 0) return [];
  const list: string[] = [];
  for (const u of userIds) list.push(keys.userSnapshot(partition, u), keys.signals(partition, u));
  const rows = (await readScript.run(redis, list, [newest])) as [string | null | false, number, string[]][];
  return rows.map(([snapshot, logLength, signals]) => ({ snapshot: typeof snapshot === 'string' ? snapshot : null, logLength, newest: signals }));
}
