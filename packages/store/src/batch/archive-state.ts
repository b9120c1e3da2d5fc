import { LuaScript } from '../lua-script.js';
import type { RedisClient } from '../redis-client.js';
import { field, type StoreKeys } from '../store-keys.js';
import type { RedisCommand } from '../views/view-commands.js';

/**
 * Redis state of the Parquet archive, shared by the archiver (writer) and the batch layer
 * (reader). Keys extend {@link StoreKeys} without changing it.
 *
 * - dirty hours: `StoreKeys.dirtyHours()`, ZSET member = hourStart, score = when the hour last
 *   received a file (ms). The archiver raises the score (ZADD GT) after each rename; a recompute
 *   that started reading at `asOf` removes only members whose score is <= `asOf`, so a file that
 *   lands while it runs keeps the hour dirty.
 * - archive watermarks: HASH `${topic}\t${partition}` -> the highest event time (ms) archived
 *   AND committed in that partition, or, for a partition with nothing left to read, the wall
 *   clock minus the idle delay (see the archiver). Only ever moves forward.
 */
export function archiveWatermarksKey(keys: StoreKeys): string {
  return `${keys.prefix}:archive:watermarks`;
}

/** Field of {@link archiveWatermarksKey} for one partition of one topic. */
export function archiveWatermarkField(topic: string, partition: number): string {
  return field(topic, partition);
}

/** ZADD GT: marks hours dirty at `now` (a later mark never lowers a score). */
export function markDirtyCommand(keys: StoreKeys, hours: Iterable<number>, now: number): RedisCommand | null {
  const args: (string | number)[] = [];
  for (const h of new Set(hours)) args.push(now, h);
  return args.length === 0 ? null : ['ZADD', keys.dirtyHours(), 'GT', ...args];
}

const hsetMaxScript = new LuaScript(`
local n = 0
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if tonumber(ARGV[i + 1]) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    n = n + 1
  end
end
return n
`);

/**
 * Raises archive watermarks (never lowers them): several archiver instances and the idle rule
 * may write the same field in any order.
 */
export async function raiseArchiveWatermarks(
  redis: RedisClient,
  keys: StoreKeys,
  topic: string,
  watermarks: ReadonlyMap<number, number>,
): Promise<void> {
  if (watermarks.size === 0) return;
  const args: (string | number)[] = [];
  for (const [partition, ts] of watermarks) args.push(archiveWatermarkField(topic, partition), Math.floor(ts));
  await hsetMaxScript.run(redis, [archiveWatermarksKey(keys)], args);
}

/** Per-partition archive watermarks of one topic. */
export async function readArchiveWatermarks(redis: RedisClient, keys: StoreKeys, topic: string): Promise<Map<number, number>> {
  const all = await redis.hgetall(archiveWatermarksKey(keys));
  const result = new Map<number, number>();
  for (const [f, v] of Object.entries(all)) {
    const at = f.lastIndexOf('\t');
    if (f.slice(0, at) !== topic) continue;
    result.set(Number(f.slice(at + 1)), Number(v));
  }
  return result;
}
