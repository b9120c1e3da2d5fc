import type { RedisClient } from '../redis-client.js';
import type { SegmentDefinition, SegmentRule } from '@sigflow/core';
import { DefinitionLimitError } from '../errors.js';
import { LuaScript } from '../lua-script.js';
import type { StoreKeys } from '../store-keys.js';

/**
 * Sets one segment's definition and moves the definitions' version, atomically. A new name gets
 * id ARGV[4] and version 1 (refused with 'limit' when ARGV[5] segments exist); an existing one
 * keeps its id and creation time and goes up one version. KEYS = definitions, meta, version;
 * ARGV = name, body JSON, now, new id, max. Returns the meta `${id}\t${version}\t${createdAt}`.
 */
const putScript = new LuaScript(`
local meta = redis.call('HGET', KEYS[2], ARGV[1])
if not meta then
  if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[5]) then return 'limit' end
  meta = ARGV[4] .. '\\t1\\t' .. ARGV[3]
else
  local id, version, created = string.match(meta, '^([^\\t]*)\\t(%d+)\\t(%d+)$')
  meta = id .. '\\t' .. (tonumber(version) + 1) .. '\\t' .. created
end
redis.call('HSET', KEYS[2], ARGV[1], meta)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[3])
return meta
`);

/** Removes one segment's definition and moves the version; returns 1 when it existed. */
const deleteScript = new LuaScript(`
local n = redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
if n > 0 then redis.call('INCR', KEYS[3]) end
return n
`);

interface StoredBody {
  readonly rule: SegmentRule;
  readonly description: string;
  readonly updatedAt: number;
}

function definitionOf(name: string, meta: string | undefined, body: string | undefined): SegmentDefinition | null {
  if (meta === undefined || body === undefined) return null;
  const [id, version, createdAt] = meta.split('\t');
  try {
    const b = JSON.parse(body) as StoredBody;
    return { name, id: id as string, version: Number(version), createdAt: Number(createdAt), rule: b.rule, description: b.description, updatedAt: b.updatedAt };
  } catch {
    return null;
  }
}

/** What {@link putSegmentDefinition} stores. */
export interface SegmentDefinitionInput {
  readonly name: string;
  /** Checked by core's `parseSegmentRule` beforehand. */
  readonly rule: SegmentRule;
  readonly description: string;
  readonly now: number;
  /** The id the segment gets if it is new (core's `segmentIdOf(name, now)`). */
  readonly newId: string;
  /** Segments allowed at most. */
  readonly max: number;
}

/**
 * Creates or replaces a segment's definition (a change keeps its id and members, its version
 * goes up one). Throws {@link DefinitionLimitError} when a new segment would exceed `max`.
 */
export async function putSegmentDefinition(redis: RedisClient, keys: StoreKeys, input: SegmentDefinitionInput): Promise<{ definition: SegmentDefinition; created: boolean }> {
  const body = JSON.stringify({ rule: input.rule, description: input.description, updatedAt: input.now });
  const meta = (await putScript.run(redis, [keys.segmentDefinitions(), keys.segmentMeta(), keys.segmentsVersion()], [input.name, body, input.now, input.newId, input.max])) as string;
  if (meta === 'limit') throw new DefinitionLimitError(`at most ${input.max} segments may be defined (SIGFLOW_SEGMENTS_MAX)`);
  const definition = definitionOf(input.name, meta, body) as SegmentDefinition;
  return { definition, created: definition.version === 1 };
}

/** Removes a segment's definition; false when there was none. */
export async function deleteSegmentDefinition(redis: RedisClient, keys: StoreKeys, name: string): Promise<boolean> {
  return Number(await deleteScript.run(redis, [keys.segmentDefinitions(), keys.segmentMeta(), keys.segmentsVersion()], [name])) > 0;
}

/** Every definition (by name) and the version of the set, in one round trip. */
export async function readSegmentDefinitions(redis: RedisClient, keys: StoreKeys): Promise<{ version: number; definitions: SegmentDefinition[] }> {
  const replies = ((await redis.multi().hgetall(keys.segmentDefinitions()).hgetall(keys.segmentMeta()).get(keys.segmentsVersion()).exec()) ?? []) as [Error | null, unknown][];
  for (const [err] of replies) if (err) throw err;
  const bodies = replies[0]?.[1] as Record<string, string>;
  const metas = replies[1]?.[1] as Record<string, string>;
  const version = replies[2]?.[1] as string | null;
  const definitions: SegmentDefinition[] = [];
  for (const name of Object.keys(metas).sort()) {
    const d = definitionOf(name, metas[name], bodies[name]);
    if (d) definitions.push(d);
  }
  return { version: Number(version ?? 0), definitions };
}

/** One segment's definition, or null. */
export async function readSegmentDefinition(redis: RedisClient, keys: StoreKeys, name: string): Promise<SegmentDefinition | null> {
  const [meta, body] = await Promise.all([redis.hget(keys.segmentMeta(), name), redis.hget(keys.segmentDefinitions(), name)]);
  return definitionOf(name, meta ?? undefined, body ?? undefined);
}

/** The version of the definitions (0: never changed); cheap to poll. */
export async function readSegmentsVersion(redis: RedisClient, keys: StoreKeys): Promise<number> {
  return Number((await redis.get(keys.segmentsVersion())) ?? 0);
}

/** The ids of the segments defined now. */
export async function readSegmentIds(redis: RedisClient, keys: StoreKeys): Promise<string[]> {
  return (await redis.hvals(keys.segmentMeta())).map((meta) => meta.split('\t')[0] as string);
}

/** The segments defined now by id: their name and version (what a profile's memberships are checked against). */
export async function readSegmentIndex(redis: RedisClient, keys: StoreKeys): Promise<Map<string, { name: string; version: number }>> {
  const index = new Map<string, { name: string; version: number }>();
  for (const [name, meta] of Object.entries(await redis.hgetall(keys.segmentMeta()))) {
    const [id, version] = meta.split('\t');
    index.set(id as string, { name, version: Number(version) });
  }
  return index;
}
