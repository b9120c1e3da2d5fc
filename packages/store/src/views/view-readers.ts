import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis-client.js';
import { isDroppedSignal, restoreUserState, storedSignalValidity, signalEventIdSpan, uncheckedSignal, type RestoredUserState, type RuleSettings, type UserSignal, HOUR_MS } from '@sigflow/core';
import type { StoreKeys } from '../store-keys.js';
import { parseBatchHourEntry, type BatchHourEntry } from '../batch/batch-views.js';
import { ReadLimitError } from '../errors.js';
import { execAll, hgetallFlat, parseMs } from '../pipeline-replies.js';
import { slotSafePipeline } from '../cluster-commands.js';
import type { ClosedHourCache } from './closed-hour-cache.js';
import { forEachField, hoursOf, type HashReply, type HourHashes, type LayerHashes, type ReconciliationData, type ReconciliationHour, type TimeRange, type WindowedHashes } from './view-replies.js';

/**
 * Readers of the serving API: every read is one pipelined round trip, or two when batch
 * versions are involved (the version of an hour must be known before its hash can be named).
 * The second trip re-reads the versions it used; if the batch layer switched one in between
 * (and may have dropped the old hash), the read is repeated, so a merged answer never mixes a
 * version's absence with its successor.
 */

/**
 * Where one windowed view lives in both layers: the speed layer writes one hash per Kafka
 * partition (each partition's commit stays in its own hash slot), read and summed; the batch
 * layer one hash per version.
 */
export interface WindowedViewKeys {
  speed(hourStart: number): string[];
  batch(hourStart: number, version: string): string;
}

/** The partitions of the events topic: 0 .. partitions - 1. */
export function speedPartitions(partitions: number): number[] {
  return Array.from({ length: partitions }, (_, p) => p);
}

/** A campaign's windowed metrics summed over its ads: the per-campaign rollup hashes (fields `${windowStart}\t${metric}`). */
export function metricsViewKeys(keys: StoreKeys, campaignId: string, partitions: number): WindowedViewKeys {
  return {
    speed: (h) => speedPartitions(partitions).map((p) => keys.speedCampaignMetrics(p, campaignId, h)),
    batch: (h, v) => keys.batchCampaignMetrics(campaignId, h, v),
  };
}
export function spendViewKeys(keys: StoreKeys, campaignId: string, partitions: number): WindowedViewKeys {
  return {
    speed: (h) => speedPartitions(partitions).map((p) => keys.speedSpend(p, campaignId, h)),
    batch: (h, v) => keys.batchSpend(campaignId, h, v),
  };
}
export function attributionViewKeys(keys: StoreKeys, model: string, partitions: number): WindowedViewKeys {
  return {
    speed: (h) => speedPartitions(partitions).map((p) => keys.speedAttribution(p, model, h)),
    batch: (h, v) => keys.batchAttribution(model, h, v),
  };
}
export function heatmapViewKeys(keys: StoreKeys, pageId: string, partitions: number): WindowedViewKeys {
  return {
    speed: (h) => speedPartitions(partitions).map((p) => keys.speedHeatmap(p, pageId, h)),
    batch: (h, v) => keys.batchHeatmap(pageId, h, v),
  };
}

/** Custom event counts (one hash per hour in each layer). */
export function eventCountViewKeys(keys: StoreKeys, partitions: number): WindowedViewKeys {
  return {
    speed: (h) => speedPartitions(partitions).map((p) => keys.speedEventCounts(p, h)),
    batch: (h, v) => keys.batchEventCounts(h, v),
  };
}

export function pageActivityViewKeys(keys: StoreKeys, pageId: string, partitions: number): WindowedViewKeys {
  return {
    speed: (h) => speedPartitions(partitions).map((p) => keys.speedPageActivity(p, pageId, h)),
    batch: (h, v) => keys.batchPageActivity(pageId, h, v),
  };
}

/**
 * The URL a page's latest page view reported (any partition's; null when none did). A page's
 * views come from many users, so several partitions may hold one: the longest-standing answer
 * is as good as any, they are the same page.
 */
export async function readPageUrl(redis: RedisClient, keys: StoreKeys, pageId: string, partitions: number): Promise<string | null> {
  const pipe = slotSafePipeline(redis);
  for (const p of speedPartitions(partitions)) pipe.hget(keys.pageUrls(p), pageId);
  const urls = (await execAll(pipe)) as (string | null)[];
  return urls.find((u) => u !== null) ?? null;
}

/** Sums hash replies field by field (the speed partitions' parts of one view hash). */
export function sumHashes(replies: readonly HashReply[]): HashReply {
  if (replies.length === 1) return replies[0] as HashReply;
  const sums = new Map<string, number>();
  for (const reply of replies) forEachField(reply, (f, v) => sums.set(f, (sums.get(f) ?? 0) + Number(v)));
  const flat: string[] = [];
  for (const [f, n] of sums) flat.push(f, String(n));
  return flat;
}

/** Queues the HGETALLs of several partitions' hashes of one view; the reader sums their replies. */
function queueSummed(pipe: ChainableCommander, keyList: readonly string[]): (next: () => HashReply) => HashReply {
  for (const key of keyList) hgetallFlat(pipe, key);
  return (next) => sumHashes(keyList.map(() => next()));
}

/** The batch watermark and the versions of some hours. */
export interface BatchState {
  readonly watermark: number | null;
  readonly hours: ReadonlyMap<number, BatchHourEntry>;
  /** The speed watermarks asked for, in the order asked (null: none stored). */
  readonly speedWatermarks: readonly (number | null)[];
}

function queueBatchState(pipe: ChainableCommander, keys: StoreKeys, hours: readonly number[], speedWatermarkKeys: readonly string[]): void {
  pipe.get(keys.batchWatermark());
  if (hours.length > 0) pipe.hmget(keys.batchHours(), ...hours.map(String));
  for (const key of speedWatermarkKeys) pipe.get(key);
}

function batchStateOf(results: unknown[], hours: readonly number[]): BatchState {
  const versions = new Map<number, BatchHourEntry>();
  const entries = (hours.length > 0 ? results[1] : []) as (string | null)[];
  hours.forEach((h, i) => {
    const info = parseBatchHourEntry(entries[i]);
    if (info) versions.set(h, info);
  });
  const speedWatermarks = results.slice(hours.length > 0 ? 2 : 1).map((w) => parseMs(w as string | null));
  return { watermark: parseMs(results[0] as string | null), hours: versions, speedWatermarks };
}

/** One round trip: the batch watermark, the versions of `hours`, and the speed watermarks at `speedWatermarkKeys`. */
export async function readBatchState(redis: RedisClient, keys: StoreKeys, hours: readonly number[], speedWatermarkKeys: readonly string[] = []): Promise<BatchState> {
  const pipe = slotSafePipeline(redis);
  queueBatchState(pipe, keys, hours, speedWatermarkKeys);
  return batchStateOf(await execAll(pipe), hours);
}

/** Which layers' hashes an hour's windows need at the batch watermark: the serving merge rule's answer (`@sigflow/serving`'s `hourLayers`). */
export type HourLayersOf = (hour: number, watermark: number | null) => { readonly speed: boolean; readonly batch: boolean };

const MAX_ATTEMPTS = 3;

/** Reads, and re-reads while a batch version used by the read changed under it. */
async function consistentRead<T>(
  redis: RedisClient,
  keys: StoreKeys,
  hours: readonly number[],
  read: (state: BatchState, pipe: ChainableCommander) => (results: unknown[]) => T,
  speedWatermarkKeys: readonly string[] = [],
): Promise<{ state: BatchState; value: T }> {
  for (let attempt = 1; ; attempt++) {
    const state = await readBatchState(redis, keys, hours, speedWatermarkKeys);
    const pipe = slotSafePipeline(redis);
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

/** What a windowed read may take from, and keep in, a {@link ClosedHourCache}. */
export interface ClosedHourReads {
  readonly cache: ClosedHourCache;
  /** The speed layer's allowed lateness (`rules.allowedLatenessMs`). */
  readonly allowedLatenessMs: number;
  /** Partitions of the events topic: each one's watermark must have passed an hour. */
  readonly partitions: number;
}

/**
 * Hours ending before this are closed in every speed partition: each partition's watermark has
 * passed their windows' ends by more than the allowed lateness, so an event of theirs arriving
 * now is late (core's `isLateEvent`) and never reaches a windowed view. Null while any
 * partition has no watermark.
 */
function speedClosedBefore(watermarks: readonly (number | null)[], allowedLatenessMs: number): number | null {
  if (watermarks.length === 0 || watermarks.some((w) => w === null)) return null;
  return Math.min(...(watermarks as number[])) - allowedLatenessMs;
}

type TakeReply = (next: () => HashReply) => HashReply;

/** The reply kept under `cacheKey` (nothing queued), else what `queue` queues, kept once read when `cacheKey` is set. */
function cachedOrQueued(cache: ClosedHourCache | undefined, cacheKey: string | null, queue: () => TakeReply): TakeReply {
  const kept = cache !== undefined && cacheKey !== null ? cache.get(cacheKey) : undefined;
  if (kept !== undefined) return () => kept;
  const take = queue();
  return (next) => {
    const reply = take(next);
    if (cache !== undefined && cacheKey !== null) cache.set(cacheKey, reply);
    return reply;
  };
}

/**
 * The hashes of one windowed view for the windows starting in `range`, as the merge rule needs
 * them (`layersOf`): speed hashes, batch hashes of the hour's version, or both. Feed the result to `mergedCells`. With
 * `closed`, the hashes that can no longer change (a batch version's; the speed partitions' of
 * an hour closed in every partition) come from its cache once read.
 */
export async function readWindowedView(
  redis: RedisClient,
  keys: StoreKeys,
  view: WindowedViewKeys,
  range: TimeRange,
  layersOf: HourLayersOf,
  closed?: ClosedHourReads,
): Promise<WindowedHashes> {
  const hours = hoursOf(range);
  const speedWatermarkKeys = closed ? speedPartitions(closed.partitions).map((p) => keys.speedWatermark(p)) : [];
  const cache = closed?.cache;
  const { state, value } = await consistentRead(
    redis,
    keys,
    hours,
    (state, pipe) => {
      const closedBefore = closed ? speedClosedBefore(state.speedWatermarks, closed.allowedLatenessMs) : null;
      const plan = hours.map((h) => {
        const layers = layersOf(h, state.watermark);
        const version = state.hours.get(h)?.version ?? null;
        const speedKeys = layers.speed ? view.speed(h) : null;
        const batchKey = layers.batch && version !== null ? view.batch(h, version) : null;
        const speedClosed = closedBefore !== null && h + HOUR_MS < closedBefore;
        return {
          h,
          version,
          speed: speedKeys ? cachedOrQueued(cache, speedClosed ? speedKeys.join('\n') : null, () => queueSummed(pipe, speedKeys)) : null,
          batch: batchKey
            ? cachedOrQueued(cache, batchKey, () => {
                hgetallFlat(pipe, batchKey);
                return (next) => next();
              })
            : null,
        };
      });
      return (results) => {
        let i = 0;
        const next = () => results[i++] as HashReply;
        return plan.map((p): HourHashes => ({ hourStart: p.h, speed: p.speed ? p.speed(next) : null, batch: p.batch ? p.batch(next) : null, batchVersion: p.version }));
      };
    },
    speedWatermarkKeys,
  );
  return { watermark: state.watermark, hours: value };
}

// ---- user signals and profile (one round trip each in the common case) ----

export interface SignalFilter {
  /** Keep only these event types (all when absent). */
  readonly types?: ReadonlySet<string> | undefined;
  /** Keep only custom events (type track) of these names (all signals when absent). */
  readonly names?: ReadonlySet<string> | undefined;
  /** Keep signals with ts >= since. */
  readonly since?: number | undefined;
  /** Keep invalid-traffic signals too (default: excluded). */
  readonly includeInvalid?: boolean | undefined;
  /** At most this many signals. */
  readonly limit: number;
}

/**
 * Whether a stored signal passes the filter. Without type and time filters the common case is
 * decided without parsing, from the stored bytes (core's `storedSignalValidity`: the first bytes
 * of every signal of the current layout). Anything else is parsed. A copy the batch layer
 * dropped never passes.
 */
function keepSignal(json: Buffer, filter: SignalFilter, selective: boolean): boolean {
  if (!selective) {
    const valid = storedSignalValidity(json);
    if (valid !== null) return valid || filter.includeInvalid === true;
  }
  if (isDroppedSignal(json)) return false;
  let signal: UserSignal;
  try {
    signal = JSON.parse(json.toString('utf8')) as UserSignal;
  } catch {
    return false;
  }
  if (typeof signal !== 'object' || signal === null || typeof signal.ts !== 'number') return false;
  if (!filter.includeInvalid && signal.invalid) return false;
  if (filter.types && !filter.types.has(signal.type)) return false;
  if (filter.names && (signal.name === undefined || !filter.names.has(signal.name))) return false;
  if (filter.since !== undefined && signal.ts < filter.since) return false;
  return true;
}

/**
 * The signals of one answer, each event once. A copy the speed layer no longer recognised (it
 * arrived more than the dedupe horizon behind its partition's newest event) sits in the log
 * twice until the batch layer recomputes its hour; of the copies read, the oldest (the first
 * to arrive) is served, in its place. Ids are compared as the stored bytes of their JSON
 * strings (core's `signalEventIdSpan`): no parse, one short string per signal (about 20 µs for
 * 100 signals, which is why it runs only when the entries read hold an unchecked one).
 */
function oncePerEvent(read: readonly Buffer[]): Buffer[] {
  const at = new Map<string, number>();
  const kept: (Buffer | null)[] = [];
  for (const json of read) {
    const span = signalEventIdSpan(json);
    if (span !== null) {
      const id = json.toString('latin1', span[0], span[1]);
      const earlier = at.get(id);
      // Newest first: this copy arrived before the one kept so far, which gives way to it.
      if (earlier !== undefined) kept[earlier] = null;
      at.set(id, kept.length);
    }
    kept.push(json);
  }
  return kept.filter((s): s is Buffer => s !== null);
}

/**
 * A user's signals (JSON exactly as stored, as bytes: a reply is a copy, never a decode and
 * re-encode), newest first (the list's order: arrival, newest at the head), filtered, each
 * event once. Reads `limit` plus some slack in one LRANGE; only when filters drop too many does
 * it read further chunks. When an entry it keeps was appended without a check for copies
 * (core's `uncheckedSignal`, one byte an entry), what it read is served once per event
 * ({@link oncePerEvent}), reading further while copies leave fewer than `limit`. A user without
 * a list has no signals.
 */
export async function readSignals(redis: RedisClient, keys: StoreKeys, partition: number, userId: string, filter: SignalFilter): Promise<Buffer[]> {
  const key = keys.signals(partition, userId);
  const selective = filter.types !== undefined || filter.since !== undefined || filter.names !== undefined;
  let chunk = selective ? Math.max(filter.limit * 4, 256) : filter.includeInvalid ? filter.limit + 4 : filter.limit + Math.ceil(filter.limit / 8) + 4;
  let out: Buffer[] = [];
  let unchecked = false;
  let served = 0;
  for (let start = 0; served < filter.limit; start += chunk, chunk *= 2) {
    const list = await redis.lrangeBuffer(key, start, start + chunk - 1);
    for (const json of list) {
      if (!keepSignal(json, filter, selective)) continue;
      if (!unchecked && uncheckedSignal(json)) unchecked = true;
      out.push(json);
      served++;
      if (served === filter.limit) {
        if (!unchecked) break;
        out = oncePerEvent(out);
        served = out.length;
        if (served === filter.limit) break;
      }
    }
    if (list.length < chunk) break;
  }
  return unchecked ? oncePerEvent(out) : out;
}

/**
 * A user's keyed state (profile source) as the speed layer holds it: the snapshot plus the
 * signals written after it, replayed (one round trip). Null for an unknown user.
 */
export async function readUserState(
  redis: RedisClient,
  keys: StoreKeys,
  partition: number,
  userId: string,
  options: { readonly settings: RuleSettings; readonly snapshotEvery: number },
): Promise<RestoredUserState | null> {
  const pipe = slotSafePipeline(redis);
  pipe.get(keys.userSnapshot(partition, userId));
  pipe.llen(keys.signals(partition, userId));
  pipe.lrange(keys.signals(partition, userId), 0, options.snapshotEvery - 1);
  const [snapshot, length, newest] = (await execAll(pipe)) as [string | null, number, string[]];
  if (snapshot === null && length === 0) return null;
  return restoreUserState(snapshot, length, newest, options.settings);
}

// ---- reconciliation ----


export interface ReconciliationQuery {
  readonly range: TimeRange;
  /** Partitions of the events topic (the speed views are per partition). */
  readonly partitions: number;
  /** The campaigns whose metrics to compare; `all` = the `campaigns()` set. */
  readonly campaigns: readonly string[] | 'all';
  /** The attribution model compared. */
  readonly model: string;
  /** At most this many campaign-hours (each is two HGETALLs); throws {@link ReadLimitError} beyond. */
  readonly maxCampaignHours?: number;
}

/** Which hashes of one hour a comparison reads: both layers' (the batch layer's of `version`). */
export interface LayerHashesQuery {
  readonly hour: number;
  /** Partitions of the events topic (the speed views are per partition). */
  readonly partitions: number;
  /** The batch version; null: the hour has none (only speed hashes are read). */
  readonly version: string | null;
  readonly campaigns: readonly string[];
  /** The attribution model compared. */
  readonly model: string;
}

/**
 * Queues the HGETALLs of one hour's comparison; the returned function takes their replies, in
 * order, from `next`.
 */
function queueHourHashes(pipe: ChainableCommander, keys: StoreKeys, q: LayerHashesQuery): (next: () => HashReply) => LayerHashes & { batchChanges: HashReply | null } {
  const h = q.hour;
  const parts = speedPartitions(q.partitions);
  const speedQualityOf = queueSummed(pipe, parts.map((p) => keys.speedQuality(p, h)));
  const speedAttributionOf = queueSummed(pipe, parts.map((p) => keys.speedAttribution(p, q.model, h)));
  const speedMetricsOf = q.campaigns.map((c) => queueSummed(pipe, parts.map((p) => keys.speedMetrics(p, c, h))));
  const v = q.version;
  if (v !== null) {
    hgetallFlat(pipe, keys.batchQuality(h, v));
    hgetallFlat(pipe, keys.batchChanges(h, v));
    hgetallFlat(pipe, keys.batchAttribution(q.model, h, v));
    for (const c of q.campaigns) hgetallFlat(pipe, keys.batchMetrics(c, h, v));
  }
  return (next) => {
    const speedQuality = speedQualityOf(next);
    const speedAttribution = speedAttributionOf(next);
    const speedMetrics = new Map(q.campaigns.map((c, k) => [c, (speedMetricsOf[k] as (n: () => HashReply) => HashReply)(next)]));
    if (v === null) {
      return { speedMetrics, batchMetrics: new Map(), speedQuality, batchQuality: null, batchChanges: null, speedAttribution, batchAttribution: null };
    }
    const batchQuality = next();
    const batchChanges = next();
    const batchAttribution = next();
    const batchMetrics = new Map(q.campaigns.map((c) => [c, next()]));
    return { speedMetrics, batchMetrics, speedQuality, batchQuality, batchChanges, speedAttribution, batchAttribution };
  };
}

/**
 * One round trip: the hashes of one hour in both layers, the batch side of a given version
 * (which need not be serving yet: the batch layer compares a version it is writing).
 */
export async function readLayerHashes(redis: RedisClient, keys: StoreKeys, query: LayerHashesQuery): Promise<LayerHashes> {
  const pipe = slotSafePipeline(redis);
  const take = queueHourHashes(pipe, keys, query);
  const results = await execAll(pipe);
  let i = 0;
  const { batchChanges: _changes, ...hashes } = take(() => results[i++] as HashReply);
  return hashes;
}

/** Everything the reconciliation report compares, in two round trips. */
export async function readReconciliation(redis: RedisClient, keys: StoreKeys, query: ReconciliationQuery): Promise<ReconciliationData> {
  const hours = hoursOf(query.range);
  let campaigns: readonly string[];
  let shapleyVersion: string | null;
  {
    const pipe = slotSafePipeline(redis);
    pipe.get(keys.shapleyVersion());
    if (query.campaigns === 'all') {
      for (const p of speedPartitions(query.partitions)) pipe.smembers(keys.campaigns(p));
      pipe.smembers(keys.batchCampaigns());
    }
    const [version, ...members] = await execAll(pipe);
    shapleyVersion = (version as string | null) ?? null;
    campaigns = query.campaigns === 'all' ? [...new Set((members as string[][]).flat())].sort() : query.campaigns;
  }
  const max = query.maxCampaignHours ?? Infinity;
  if (campaigns.length * hours.length > max) {
    throw new ReadLimitError(`${campaigns.length} campaigns x ${hours.length} hours is over ${max} campaign-hours`);
  }
  const { state, value } = await consistentRead(redis, keys, hours, (state, pipe) => {
    const plan = hours.map((h) => ({
      h,
      take: queueHourHashes(pipe, keys, { hour: h, partitions: query.partitions, version: state.hours.get(h)?.version ?? null, campaigns, model: query.model }),
    }));
    return (results) => {
      let i = 0;
      const next = () => results[i++] as HashReply;
      return plan.map((p): ReconciliationHour => ({ hourStart: p.h, batch: state.hours.get(p.h) ?? null, ...p.take(next) }));
    };
  });
  return { watermark: state.watermark, shapleyVersion, hours: value };
}

// ---- status and listings ----

/** Where the served data stands: watermarks of both layers, the Shapley version, counters. */
export interface ServingStatus {
  readonly batchWatermark: number | null;
  /** Partition -> the speed layer's watermark (ms); partitions without events are absent. */
  readonly speedWatermarks: Record<string, number>;
  readonly shapleyVersion: string | null;
  readonly speedCounters: Record<string, number>;
}

export async function readServingStatus(redis: RedisClient, keys: StoreKeys, partitions: number): Promise<ServingStatus> {
  const parts = speedPartitions(partitions);
  const pipe = slotSafePipeline(redis);
  pipe.get(keys.batchWatermark());
  pipe.get(keys.shapleyVersion());
  for (const p of parts) pipe.get(keys.speedWatermark(p));
  for (const p of parts) hgetallFlat(pipe, keys.speedCounters(p));
  const [watermark, version, ...rest] = await execAll(pipe);
  const speedWatermarks: Record<string, number> = {};
  parts.forEach((p, i) => {
    const ms = parseMs(rest[i] as string | null);
    if (ms !== null) speedWatermarks[String(p)] = ms;
  });
  const speedCounters: Record<string, number> = {};
  forEachField(sumHashes(rest.slice(parts.length) as HashReply[]), (f, v) => (speedCounters[f] = Number(v)));
  return {
    batchWatermark: parseMs(watermark as string | null),
    speedWatermarks,
    shapleyVersion: (version as string | null) ?? null,
    speedCounters,
  };
}
