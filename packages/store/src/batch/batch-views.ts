import { LuaScript } from '../lua-script.js';
import type { RedisClient } from '../redis-client.js';
import type { MarkovModel } from '@sigflow/core';
import type { StoreKeys } from '../store-keys.js';
import type { WindowViewKeyspace } from '../views/view-commands.js';

/**
 * What `StoreKeys.batchHours()` holds per hour (JSON): the version the hour serves and how it
 * was computed. `asOf` is when the computation started reading the archive: a switch never
 * replaces an entry computed from a later read (two jobs racing on one hour).
 */
export interface BatchHourEntry {
  readonly version: string;
  /** When the version was switched in (ms). */
  readonly computedAt: number;
  /** When its computation started reading the archive (ms). */
  readonly asOf: number;
  /** Non-duplicate events of the hour. */
  readonly rows: number;
  /** Later copies dropped by the dedupe. */
  readonly duplicates: number;
  /** Shapley table and Markov model the hour's attribution used (null: none published). */
  readonly shapleyVersion: string | null;
  readonly markovVersion: string | null;
  /**
   * The `isbot` package version whose list decided the `bot` rule (its list decides which events
   * count as bots; a new one can change old hours). Null for entries written before it was recorded.
   */
  readonly isbotVersion: string | null;
  /** The BullMQ job (or caller) that computed it. */
  readonly computedBy: string;
}

/** Parses a {@link BatchHourEntry}; null for a missing or unreadable entry. */
export function parseBatchHourEntry(json: string | null | undefined): BatchHourEntry | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as Partial<BatchHourEntry>;
    if (typeof value.version !== 'string' || typeof value.computedAt !== 'number') return null;
    return {
      version: value.version,
      computedAt: value.computedAt,
      asOf: typeof value.asOf === 'number' ? value.asOf : value.computedAt,
      rows: typeof value.rows === 'number' ? value.rows : 0,
      duplicates: typeof value.duplicates === 'number' ? value.duplicates : 0,
      shapleyVersion: typeof value.shapleyVersion === 'string' ? value.shapleyVersion : null,
      markovVersion: typeof value.markovVersion === 'string' ? value.markovVersion : null,
      isbotVersion: typeof value.isbotVersion === 'string' ? value.isbotVersion : null,
      computedBy: typeof value.computedBy === 'string' ? value.computedBy : '',
    };
  } catch {
    return null;
  }
}

/** The entries of the given hours (missing hours are left out). */
export async function readBatchHourEntries(redis: RedisClient, keys: StoreKeys, hours: readonly number[]): Promise<Map<number, BatchHourEntry>> {
  const result = new Map<number, BatchHourEntry>();
  if (hours.length === 0) return result;
  const values = await redis.hmget(keys.batchHours(), ...hours.map(String));
  hours.forEach((h, i) => {
    const entry = parseBatchHourEntry(values[i]);
    if (entry) result.set(h, entry);
  });
  return result;
}

/** The batch watermark (ms), or null before the first switch. */
export async function readBatchWatermark(redis: RedisClient, keys: StoreKeys): Promise<number | null> {
  const value = await redis.get(keys.batchWatermark());
  return value === null ? null : Number(value);
}

/** The speed layer's keyspace of one partition's windowed views (readers sum the partitions). */
export function speedKeyspace(keys: StoreKeys, partition: number): WindowViewKeyspace {
  return {
    metrics: (campaign, hour) => keys.speedMetrics(partition, campaign, hour),
    campaignMetrics: (campaign, hour) => keys.speedCampaignMetrics(partition, campaign, hour),
    spend: (campaign, hour) => keys.speedSpend(partition, campaign, hour),
    attribution: (model, hour) => keys.speedAttribution(partition, model, hour),
    heatmap: (page, hour) => keys.speedHeatmap(partition, page, hour),
    pageActivity: (page, hour) => keys.speedPageActivity(partition, page, hour),
    eventCounts: (hour) => keys.speedEventCounts(partition, hour),
  };
}

/** The windowed views of one batch version: the keyspace `windowViewCommands` writes into. */
export function batchKeyspace(keys: StoreKeys, version: string): WindowViewKeyspace {
  return {
    metrics: (campaign, hour) => keys.batchMetrics(campaign, hour, version),
    campaignMetrics: (campaign, hour) => keys.batchCampaignMetrics(campaign, hour, version),
    spend: (campaign, hour) => keys.batchSpend(campaign, hour, version),
    attribution: (model, hour) => keys.batchAttribution(model, hour, version),
    heatmap: (page, hour) => keys.batchHeatmap(page, hour, version),
    pageActivity: (page, hour) => keys.batchPageActivity(page, hour, version),
    eventCounts: (hour) => keys.batchEventCounts(hour, version),
  };
}

/**
 * SET of every key one batch version of one hour wrote (views, quality, changes): the switch
 * gives them their long TTL, a later switch expires them.
 */
export function batchVersionKeysKey(keys: StoreKeys, hourStart: number, version: string): string {
  return `${keys.prefix}:batch:keys:${hourStart}:${version}`;
}

/**
 * The atomic switch of recomputed hours (one Lua script = one atomic step):
 * KEYS = batchHours, dirtyHours, batchWatermark; ARGV = asOf, watermark candidate ('' = leave
 * it), then pairs (hourStart, entry JSON).
 * Per hour: replaces the entry unless the current one was computed from a later read, and
 * clears the dirty mark if no file landed since `asOf`. Then watermark = min(candidate, every
 * hour still dirty). Returns [hour, previous entry ('' = none), replaced (1/0)] triples.
 */
const switchScript = new LuaScript(`
local asOf = tonumber(ARGV[1])
local out = {}
for i = 3, #ARGV, 2 do
  local hour = ARGV[i]
  local current = redis.call('HGET', KEYS[1], hour)
  local replace = 1
  if current then
    local ok, c = pcall(cjson.decode, current)
    if ok and type(c) == 'table' and tonumber(c.asOf) and tonumber(c.asOf) > asOf then replace = 0 end
  end
  if replace == 1 then
    redis.call('HSET', KEYS[1], hour, ARGV[i + 1])
    local score = redis.call('ZSCORE', KEYS[2], hour)
    if score and tonumber(score) <= asOf then redis.call('ZREM', KEYS[2], hour) end
  end
  table.insert(out, hour)
  table.insert(out, current or '')
  table.insert(out, replace)
end
if ARGV[2] ~= '' then
  local wm = tonumber(ARGV[2])
  local dirty = redis.call('ZRANGE', KEYS[2], 0, -1)
  for _, h in ipairs(dirty) do
    local x = tonumber(h)
    if x and x < wm then wm = x end
  end
  redis.call('SET', KEYS[3], string.format('%d', wm))
end
return out
`);

/** One hour of a switch: its new entry. */
export interface BatchSwitchHour {
  readonly hourStart: number;
  readonly entry: BatchHourEntry;
}

/** What a switch did for one hour. */
export interface BatchSwitchResult {
  readonly hourStart: number;
  /** The entry that served before (null: none). */
  readonly previous: BatchHourEntry | null;
  /** False when a computation from a later read had already switched in: the new version is unused. */
  readonly replaced: boolean;
}

/**
 * Switches recomputed hours in atomically with the watermark (see the script above). The new
 * version's keys must all be written before; the caller expires the replaced versions' keys.
 */
export async function switchBatchHours(
  redis: RedisClient,
  keys: StoreKeys,
  asOf: number,
  watermarkCandidate: number | null,
  hours: readonly BatchSwitchHour[],
): Promise<BatchSwitchResult[]> {
  const args: (string | number)[] = [asOf, watermarkCandidate === null ? '' : Math.floor(watermarkCandidate)];
  for (const h of hours) args.push(h.hourStart, JSON.stringify(h.entry));
  const out = (await switchScript.run(redis, [keys.batchHours(), keys.dirtyHours(), keys.batchWatermark()], args)) as (string | number)[];
  const results: BatchSwitchResult[] = [];
  for (let i = 0; i < out.length; i += 3) {
    results.push({
      hourStart: Number(out[i]),
      previous: parseBatchHourEntry(String(out[i + 1] ?? '')),
      replaced: Number(out[i + 2]) === 1,
    });
  }
  return results;
}

/** What `StoreKeys.markovModel()` holds (JSON): the trained chain with its version. */
export interface PublishedMarkovModel {
  readonly version: string;
  /**
   * The definition it was trained under (core's `markovDefinition`: `journeys-v1`, journeys cut
   * at each conversion with the attribution lookback); absent for models trained before, on one
   * path per user over the whole period.
   */
  readonly definition?: string;
  /** Training period [from, to) (ms). */
  readonly from: number;
  readonly to: number;
  /** Journeys trained on, and how many ended in a conversion (absent before `definition`). */
  readonly journeys?: number;
  readonly convertedJourneys?: number;
  readonly model: MarkovModel;
}

/**
 * What `StoreKeys.shapleyTable()` holds (JSON): core's table (version and v(S) per canonical
 * channel set, `a+b`) and how it was trained. Tables published before the training fields
 * existed have none of them.
 */
export interface PublishedShapleyTable {
  readonly version: string;
  readonly values: Readonly<Record<string, number>>;
  /** Training period [from, to) (ms). */
  readonly from?: number;
  readonly to?: number;
  /** Users with a valid touchpoint in the period, and how many of them converted. */
  readonly users?: number;
  readonly convertedUsers?: number;
  /** When it was trained (ms). */
  readonly trainedAt?: number;
}

/** The published Shapley table, or null when none is (or it is unreadable). */
export async function readShapleyTable(redis: RedisClient, keys: StoreKeys): Promise<PublishedShapleyTable | null> {
  const json = await redis.get(keys.shapleyTable());
  if (json === null) return null;
  try {
    const value = JSON.parse(json) as PublishedShapleyTable;
    if (typeof value.version !== 'string' || typeof value.values !== 'object' || value.values === null) return null;
    return value;
  } catch {
    return null;
  }
}

/** The published Markov model, or null when none is (or it is unreadable). */
export async function readMarkovModel(redis: RedisClient, keys: StoreKeys): Promise<PublishedMarkovModel | null> {
  const json = await redis.get(keys.markovModel());
  if (json === null) return null;
  try {
    const value = JSON.parse(json) as PublishedMarkovModel;
    if (typeof value.version !== 'string' || !Array.isArray(value.model?.removalEffects)) return null;
    return value;
  } catch {
    return null;
  }
}
