import type { ChainableCommander, Redis } from 'ioredis';
import { parseUserState, type UserSignal, type UserState } from '@sigflow/core';
import type { StoreKeys } from './store-keys.js';
import { parseBatchHourEntry, type BatchHourEntry } from './batch-views.js';
import {
  HOUR_MS,
  hoursOf,
  type HashReply,
  type HourHashes,
  type ReconciliationData,
  type ReconciliationHour,
  type TimeRange,
  type WindowedHashes,
} from './merge-views.js';

/**
 * Readers of the serving API: every read is one pipelined round trip, or two when batch
 * versions are involved (the version of an hour must be known before its hash can be named).
 * The second trip re-reads the versions it used; if the batch layer switched one in between
 * (and may have dropped the old hash), the read is repeated, so a merged answer never mixes a
 * version's absence with its successor.
 */

function parseMs(text: string | null | undefined): number | null {
  if (text === null || text === undefined || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The results of a pipeline, throwing the first command error. */
async function execAll(pipe: ChainableCommander): Promise<unknown[]> {
  const results = (await pipe.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/**
 * Queues HGETALL so that it answers the flat [field, value, ...] array: `pipe.hgetall` would
 * build an object with one property per field (slow for the thousands of fields of a day of
 * windows). ioredis transforms the reply of the lower-case command name only; readers accept
 * either form (see `forEachField`), so a client that did convert would still be read right.
 */
function hgetallFlat(pipe: ChainableCommander, key: string): void {
  pipe.call('HGETALL', key);
}

/** Where one windowed view lives in both layers. */
export interface WindowedViewKeys {
  speed(hourStart: number): string;
  batch(hourStart: number, version: string): string;
}

export function metricsViewKeys(keys: StoreKeys, campaignId: string): WindowedViewKeys {
  return { speed: (h) => keys.speedMetrics(campaignId, h), batch: (h, v) => keys.batchMetrics(campaignId, h, v) };
}
export function attributionViewKeys(keys: StoreKeys, model: string): WindowedViewKeys {
  return { speed: (h) => keys.speedAttribution(model, h), batch: (h, v) => keys.batchAttribution(model, h, v) };
}
export function heatmapViewKeys(keys: StoreKeys, pageId: string): WindowedViewKeys {
  return { speed: (h) => keys.speedHeatmap(pageId, h), batch: (h, v) => keys.batchHeatmap(pageId, h, v) };
}

/** The batch watermark and the versions of some hours. */
export interface BatchState {
  readonly watermark: number | null;
  readonly hours: ReadonlyMap<number, BatchHourEntry>;
}

function queueBatchState(pipe: ChainableCommander, keys: StoreKeys, hours: readonly number[]): void {
  pipe.get(keys.batchWatermark());
  if (hours.length > 0) pipe.hmget(keys.batchHours(), ...hours.map(String));
}

function batchStateOf(results: unknown[], hours: readonly number[]): BatchState {
  const versions = new Map<number, BatchHourEntry>();
  const entries = (hours.length > 0 ? results[1] : []) as (string | null)[];
  hours.forEach((h, i) => {
    const info = parseBatchHourEntry(entries[i]);
    if (info) versions.set(h, info);
  });
  return { watermark: parseMs(results[0] as string | null), hours: versions };
}

/** One round trip: the batch watermark and the versions of `hours`. */
export async function readBatchState(redis: Redis, keys: StoreKeys, hours: readonly number[]): Promise<BatchState> {
  const pipe = redis.pipeline();
  queueBatchState(pipe, keys, hours);
  return batchStateOf(await execAll(pipe), hours);
}

/** Which layers an hour needs under the merge rule at `watermark`. */
function layersOfHour(hour: number, windowMs: number, watermark: number | null): { speed: boolean; batch: boolean } {
  if (watermark === null) return { speed: true, batch: false };
  const firstEnd = Math.floor(hour / windowMs) * windowMs + windowMs;
  const lastEnd = Math.floor((hour + HOUR_MS - 1) / windowMs) * windowMs + windowMs;
  return { speed: lastEnd > watermark, batch: firstEnd <= watermark };
}

const MAX_ATTEMPTS = 3;

/** Reads, and re-reads while a batch version used by the read changed under it. */
async function consistentRead<T>(
  redis: Redis,
  keys: StoreKeys,
  hours: readonly number[],
  read: (state: BatchState, pipe: ChainableCommander) => (results: unknown[]) => T,
): Promise<{ state: BatchState; value: T }> {
  for (let attempt = 1; ; attempt++) {
    const state = await readBatchState(redis, keys, hours);
    const pipe = redis.pipeline();
    const parse = read(state, pipe);
    const used = [...state.hours.keys()];
    if (used.length > 0) pipe.hmget(keys.batchHours(), ...used.map(String));
    const results = await execAll(pipe);
    if (used.length > 0) {
      const now = results.pop() as (string | null)[];
      const changed = used.some((h, i) => parseBatchHourEntry(now[i])?.version !== state.hours.get(h)?.version);
      if (changed && attempt < MAX_ATTEMPTS) continue;
    }
    return { state, value: parse(results) };
  }
}

/**
 * The hashes of one windowed view for the windows starting in `range`, as the merge rule needs
 * them: speed hashes of hours with a window after the watermark, batch hashes (of the hour's
 * version) of hours with a window at or before it. Feed the result to `mergedCells`.
 */
export async function readWindowedView(
  redis: Redis,
  keys: StoreKeys,
  view: WindowedViewKeys,
  range: TimeRange,
  windowMs: number,
): Promise<WindowedHashes> {
  const hours = hoursOf(range);
  const { state, value } = await consistentRead(redis, keys, hours, (state, pipe) => {
    const plan = hours.map((h) => {
      const layers = layersOfHour(h, windowMs, state.watermark);
      const version = state.hours.get(h)?.version ?? null;
      const speed = layers.speed;
      const batch = layers.batch && version !== null;
      if (speed) hgetallFlat(pipe, view.speed(h));
      if (batch) hgetallFlat(pipe, view.batch(h, version as string));
      return { h, speed, batch, version };
    });
    return (results) => {
      let i = 0;
      return plan.map(
        (p): HourHashes => ({
          hourStart: p.h,
          speed: p.speed ? (results[i++] as HashReply) : null,
          batch: p.batch ? (results[i++] as HashReply) : null,
          batchVersion: p.version,
        }),
      );
    };
  });
  return { watermark: state.watermark, hours: value };
}

// ---- user signals and profile (one round trip each in the common case) ----

export interface SignalFilter {
  /** Keep only these event types (all when absent). */
  readonly types?: ReadonlySet<string> | undefined;
  /** Keep signals with ts >= since. */
  readonly since?: number | undefined;
  /** Keep invalid-traffic signals too (default: excluded). */
  readonly includeInvalid?: boolean | undefined;
  /** At most this many signals. */
  readonly limit: number;
}

/**
 * Whether a stored signal passes the filter. Without type and time filters the common case is
 * decided without parsing: the speed layer stores `JSON.stringify(signal)`, where the token
 * `"invalid":false` / `"invalid":true` can only be the field itself (a quote inside a string
 * value is always escaped). Anything else is parsed.
 */
function keepSignal(json: string, filter: SignalFilter, selective: boolean): boolean {
  if (!selective) {
    if (filter.includeInvalid) return true;
    if (json.includes('"invalid":false')) return true;
    if (json.includes('"invalid":true')) return false;
  }
  let signal: UserSignal;
  try {
    signal = JSON.parse(json) as UserSignal;
  } catch {
    return false;
  }
  if (typeof signal !== 'object' || signal === null || typeof signal.ts !== 'number') return false;
  if (!filter.includeInvalid && signal.invalid) return false;
  if (filter.types && !filter.types.has(signal.type)) return false;
  if (filter.since !== undefined && signal.ts < filter.since) return false;
  return true;
}

/**
 * A user's signals (JSON exactly as stored), newest first (the list's order: arrival, newest at
 * the head), filtered. Reads `limit` plus some slack in one LRANGE; only when filters drop too
 * many does it read further chunks. A user without a list has no signals.
 */
export async function readSignals(redis: Redis, keys: StoreKeys, userId: string, filter: SignalFilter): Promise<string[]> {
  const key = keys.signals(userId);
  const selective = filter.types !== undefined || filter.since !== undefined;
  let chunk = selective ? Math.max(filter.limit * 4, 256) : filter.includeInvalid ? filter.limit : filter.limit + Math.ceil(filter.limit / 8) + 4;
  const out: string[] = [];
  for (let start = 0; out.length < filter.limit; start += chunk, chunk *= 2) {
    const list = await redis.lrange(key, start, start + chunk - 1);
    for (const json of list) {
      if (!keepSignal(json, filter, selective)) continue;
      out.push(json);
      if (out.length === filter.limit) break;
    }
    if (list.length < chunk) break;
  }
  return out;
}

/** A user's keyed state (profile source), null for an unknown user. */
export async function readUserState(redis: Redis, keys: StoreKeys, userId: string): Promise<UserState | null> {
  const text = await redis.get(keys.userState(userId));
  return text === null ? null : parseUserState(JSON.parse(text));
}

// ---- reconciliation ----

/** Thrown when a read would touch more keys than allowed. */
export class ReadLimitError extends Error {
  override readonly name = 'ReadLimitError';
}

export interface ReconciliationQuery {
  readonly range: TimeRange;
  /** The campaigns whose metrics to compare; `all` = the `campaigns()` set. */
  readonly campaigns: readonly string[] | 'all';
  /** The attribution model compared. */
  readonly model: string;
  /** At most this many campaign-hours (each is two HGETALLs); throws {@link ReadLimitError} beyond. */
  readonly maxCampaignHours?: number;
}

/** Everything the reconciliation report compares, in two round trips. */
export async function readReconciliation(redis: Redis, keys: StoreKeys, query: ReconciliationQuery): Promise<ReconciliationData> {
  const hours = hoursOf(query.range);
  let campaigns: readonly string[];
  let shapleyVersion: string | null;
  {
    const pipe = redis.pipeline();
    pipe.get(keys.shapleyVersion());
    if (query.campaigns === 'all') pipe.smembers(keys.campaigns());
    const [version, members] = await execAll(pipe);
    shapleyVersion = (version as string | null) ?? null;
    campaigns = query.campaigns === 'all' ? ((members as string[]) ?? []).sort() : query.campaigns;
  }
  const max = query.maxCampaignHours ?? Infinity;
  if (campaigns.length * hours.length > max) {
    throw new ReadLimitError(`${campaigns.length} campaigns x ${hours.length} hours is over ${max} campaign-hours`);
  }
  const { state, value } = await consistentRead(redis, keys, hours, (state, pipe) => {
    const plan = hours.map((h) => {
      const version = state.hours.get(h)?.version ?? null;
      hgetallFlat(pipe, keys.speedQuality(h));
      hgetallFlat(pipe, keys.speedAttribution(query.model, h));
      for (const c of campaigns) hgetallFlat(pipe, keys.speedMetrics(c, h));
      if (version !== null) {
        hgetallFlat(pipe, keys.batchQuality(h, version));
        hgetallFlat(pipe, keys.batchChanges(h, version));
        hgetallFlat(pipe, keys.batchAttribution(query.model, h, version));
        for (const c of campaigns) hgetallFlat(pipe, keys.batchMetrics(c, h, version));
      }
      return { h, version };
    });
    return (results) => {
      let i = 0;
      const next = () => results[i++] as HashReply;
      return plan.map((p): ReconciliationHour => {
        const speedQuality = next();
        const speedAttribution = next();
        const speedMetrics = new Map(campaigns.map((c) => [c, next()]));
        if (p.version === null) {
          return {
            hourStart: p.h,
            batch: null,
            speedMetrics,
            batchMetrics: new Map(),
            speedQuality,
            batchQuality: null,
            batchChanges: null,
            speedAttribution,
            batchAttribution: null,
          };
        }
        const batchQuality = next();
        const batchChanges = next();
        const batchAttribution = next();
        const batchMetrics = new Map(campaigns.map((c) => [c, next()]));
        return {
          hourStart: p.h,
          batch: state.hours.get(p.h) ?? null,
          speedMetrics,
          batchMetrics,
          speedQuality,
          batchQuality,
          batchChanges,
          speedAttribution,
          batchAttribution,
        };
      });
    };
  });
  return { watermark: state.watermark, shapleyVersion, hours: value };
}

// ---- status and listings ----

/** Where the served data stands: watermarks of both layers, the Shapley version, counters. */
export interface ServingStatus {
  readonly batchWatermark: number | null;
  /** `${topic}\t${partition}` -> the speed layer's watermark (ms). */
  readonly speedWatermarks: Record<string, number>;
  readonly shapleyVersion: string | null;
  readonly speedCounters: Record<string, number>;
}

export async function readServingStatus(redis: Redis, keys: StoreKeys): Promise<ServingStatus> {
  const pipe = redis.pipeline();
  pipe.get(keys.batchWatermark());
  pipe.hgetall(keys.speedWatermarks());
  pipe.get(keys.shapleyVersion());
  pipe.hgetall(keys.speedCounters());
  const [watermark, speed, version, counters] = await execAll(pipe);
  const numbers = (hash: unknown) =>
    Object.fromEntries(Object.entries((hash ?? {}) as Record<string, string>).map(([k, v]) => [k, Number(v)]));
  return {
    batchWatermark: parseMs(watermark as string | null),
    speedWatermarks: numbers(speed),
    shapleyVersion: (version as string | null) ?? null,
    speedCounters: numbers(counters),
  };
}
