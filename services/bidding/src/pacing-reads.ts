import { type RedisClient, type StoreKeys, slotSafePipeline } from '@sigflow/store';
import { parseBatchHourEntry } from '@sigflow/store/batch';
import { parseStoredBudget, type StoredBudget } from '@sigflow/store/bidding';
import type { HashReply } from '@sigflow/store/views';
import { biddingRanges, type BiddingSettings, type RevenueCell, type RuleSettings, type SpendCell, HOUR_MS, hourStart } from '@sigflow/core';
import { revenueCellsOf, spendCellsOf, windowSource } from '@sigflow/serving';
import { HourCache } from './hour-cache.js';

/** What the reads need to know. */
export interface PacingReadOptions {
  readonly keys: StoreKeys;
  /** Partitions of the events topic (the speed views are per partition). */
  readonly partitions: number;
  readonly rules: RuleSettings;
  readonly bidding: BiddingSettings;
  /** Events may be this far in the future: today's windows are read up to t + this. */
  readonly maxFutureMs: number;
}

/** One round's inputs: the budgets, the batch watermark, and per campaign the merged cells. */
export interface PacingRound {
  readonly at: number;
  readonly budgets: ReadonlyMap<string, StoredBudget>;
  readonly batchWatermark: number | null;
  /** A budgeted campaign's channel spend, each window from the layer serving it. */
  spend(campaignId: string): SpendCell[];
  /** A budgeted campaign's revenue of model M in the trailing window's hours, merged likewise. */
  revenue(campaignId: string): RevenueCell[];
  /** Hashes read from Redis this round (the rest came from the cache). */
  readonly hashesRead: number;
}

/** One hour of one view as a round holds it: the speed part and the batch part (null: not served by that layer). */
interface HourParts<T> {
  speed: T | null;
  batch: T | null;
}

/** The pieces read in the first round trip. */
interface RoundState {
  readonly budgets: Map<string, StoredBudget>;
  readonly watermark: number | null;
  readonly versions: Map<number, string>;
  readonly speedWatermarks: (number | null)[];
}

/** How far a budget day reaches before or after an instant (26 h days, 14 h offsets). */
const DAY_REACH_MS = 27 * HOUR_MS;

/**
 * Reads what the bidding answers of every budgeted campaign need, in two pipelined round trips
 * per round: (1) the budgets, the batch watermark, the versions of the hours a budget day can
 * reach, the speed partitions' watermarks; (2) the spend hashes of each campaign's budget day
 * and trailing window and the model's attribution hashes of the trailing window, as the serving
 * merge rule picks them (speed after the batch watermark, the hour's batch version at or before
 * it). Hashes that cannot change any more come from the cache ({@link HourCache}).
 */
export class PacingReads {
  private readonly spendCache = new HourCache<readonly SpendCell[]>();
  private readonly revenueCache = new HourCache<ReadonlyMap<string, readonly RevenueCell[]>>();

  constructor(private readonly options: PacingReadOptions) {}

  get cachedHours(): number {
    return this.spendCache.size + this.revenueCache.size;
  }

  async read(redis: RedisClient, t: number): Promise<PacingRound> {
    const state = await this.readState(redis, t);
    const pipe = slotSafePipeline(redis);
    const pending: (() => void)[] = [];
    let hashesRead = 0;
    const queue = (keys: readonly string[], take: (replies: HashReply[]) => void) => {
      for (const key of keys) pipe.call('HGETALL', key);
      hashesRead += keys.length;
      pending.push(() => take(keys.map(() => replyAt(results, cursor++))));
    };
    let results: [Error | null, unknown][] = [];
    let cursor = 0;
    const spend = new Map<string, HourParts<readonly SpendCell[]>[]>();
    for (const [campaignId, budget] of state.budgets) {
      spend.set(campaignId, this.spendHours(t, budget).map((h) => this.plan(state, h, this.spendCache, `spend|${campaignId}`, (p) => this.options.keys.speedSpend(p, campaignId, h), (v) => this.options.keys.batchSpend(campaignId, h, v), spendCellsOf, queue)));
    }
    const model = this.options.bidding.model;
    const revenue = this.revenueHours(t).map((h) =>
      this.plan(state, h, this.revenueCache, `revenue|${model}`, (p) => this.options.keys.speedAttribution(p, model, h), (v) => this.options.keys.batchAttribution(model, h, v), revenueCellsOf, queue),
    );
    if (hashesRead > 0) results = (await pipe.exec()) ?? [];
    for (const take of pending) take();
    this.spendCache.endRound();
    this.revenueCache.endRound();
    const merge = <T extends { windowStart: number }>(parts: readonly HourParts<readonly T[]>[]) => this.merged(parts, state.watermark);
    return {
      at: t,
      budgets: state.budgets,
      batchWatermark: state.watermark,
      spend: (campaignId) => merge(spend.get(campaignId) ?? []),
      revenue: (campaignId) => merge(revenue.map((r) => ({ speed: r.speed?.get(campaignId) ?? null, batch: r.batch?.get(campaignId) ?? null }))),
      hashesRead,
    };
  }

  /** Round trip 1. */
  private async readState(redis: RedisClient, t: number): Promise<RoundState> {
    const { keys, partitions } = this.options;
    const hours = hourRange(t - DAY_REACH_MS - this.options.bidding.windowMs, t + DAY_REACH_MS);
    const pipe = slotSafePipeline(redis);
    pipe.call('HGETALL', keys.budgets());
    pipe.get(keys.batchWatermark());
    pipe.hmget(keys.batchHours(), ...hours.map(String));
    for (let p = 0; p < partitions; p++) pipe.get(keys.speedWatermark(p));
    const results = (await pipe.exec()) ?? [];
    const [budgetsReply, watermark, entries, ...speed] = results.map((_, i) => replyAt(results, i));
    const budgets = new Map<string, StoredBudget>();
    const flat = (budgetsReply ?? []) as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const budget = parseStoredBudget(flat[i + 1]);
      if (budget) budgets.set(flat[i] as string, budget);
    }
    const versions = new Map<number, string>();
    hours.forEach((h, i) => {
      const entry = parseBatchHourEntry((entries as (string | null)[])[i]);
      if (entry) versions.set(h, entry.version);
    });
    return { budgets, watermark: numberOrNull(watermark), versions, speedWatermarks: speed.map(numberOrNull) };
  }

  /** The hours of a campaign's spend: its budget day up to what can have arrived, and its trailing window. */
  private spendHours(t: number, budget: StoredBudget): number[] {
    const { day, window } = biddingRanges(t, budget, this.options.bidding);
    return hourRange(Math.min(day.start, window.from), Math.min(day.end - 1, t + this.options.maxFutureMs));
  }

  private revenueHours(t: number): number[] {
    return hourRange(t - this.options.bidding.windowMs, t);
  }

  /**
   * Which layers serve hour `h` (speed when its last window ends after the batch watermark,
   * batch when its first ends at or before it and the hour has a version), each part from the
   * cache or queued for round trip 2.
   */
  private plan<T>(
    state: RoundState,
    h: number,
    cache: HourCache<T>,
    id: string,
    speedKey: (partition: number) => string,
    batchKey: (version: string) => string,
    parse: (replies: HashReply[]) => T,
    queue: (keys: readonly string[], take: (replies: HashReply[]) => void) => void,
  ): HourParts<T> {
    const windowMs = this.options.rules.windowMs;
    const parts: HourParts<T> = { speed: null, batch: null };
    const lastWindow = Math.floor((h + HOUR_MS - 1) / windowMs) * windowMs;
    if (windowSource(lastWindow, windowMs, state.watermark) === 'speed') {
      const key = `speed|${id}|${h}`;
      const cached = cache.get(key);
      if (cached !== undefined) parts.speed = cached;
      else {
        const final = this.closedInSpeed(state, lastWindow + windowMs);
        queue(Array.from({ length: this.options.partitions }, (_, p) => speedKey(p)), (replies) => {
          parts.speed = parse(replies);
          if (final) cache.set(key, parts.speed);
        });
      }
    }
    const version = state.versions.get(h);
    if (version !== undefined && windowSource(h, windowMs, state.watermark) === 'batch') {
      const key = `batch|${id}|${h}|${version}`;
      const cached = cache.get(key);
      if (cached !== undefined) parts.batch = cached;
      else {
        queue([batchKey(version)], (replies) => {
          parts.batch = parse(replies);
          cache.set(key, parts.batch);
        });
      }
    }
    return parts;
  }

  /** Whether every partition's watermark is past `end` (an hour's last window end) by more than the allowed lateness. */
  private closedInSpeed(state: RoundState, end: number): boolean {
    const lateness = this.options.rules.allowedLatenessMs;
    return state.speedWatermarks.length > 0 && state.speedWatermarks.every((w) => w !== null && w - end > lateness);
  }

  /** The cells of each window from the layer that serves it. */
  private merged<T extends { windowStart: number }>(parts: readonly HourParts<readonly T[]>[], watermark: number | null): T[] {
    const windowMs = this.options.rules.windowMs;
    const out: T[] = [];
    for (const part of parts) {
      for (const c of part.speed ?? []) if (windowSource(c.windowStart, windowMs, watermark) === 'speed') out.push(c);
      for (const c of part.batch ?? []) if (windowSource(c.windowStart, windowMs, watermark) === 'batch') out.push(c);
    }
    return out;
  }
}

function replyAt(results: readonly [Error | null, unknown][], i: number): HashReply {
  const [err, value] = results[i] ?? [new Error(`no reply ${i}`), null];
  if (err) throw err;
  return value as HashReply;
}

function numberOrNull(value: unknown): number | null {
  if (typeof value !== 'string' || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The hour starts from the hour of `from` to the hour of `to`, both included. */
function hourRange(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let h = hourStart(from); h <= to; h += HOUR_MS) hours.push(h);
  return hours;
}
