import { clickThroughRate, pageHeatmap } from '@sigflow/core';
import { FIELD_SEPARATOR, fieldParts, windowMetricFields } from './store-keys.js';
import type { BatchHourEntry } from './batch-views.js';

/**
 * The serving merge rule (DESIGN.md "Serving merge rule") as pure functions over the raw hash
 * contents the readers in `view-readers.ts` return. No I/O here, so the rule is unit-tested
 * without Redis.
 *
 * - A query range [from, to) selects the windows whose *start* lies in it.
 * - A window [ws, ws + windowMs) comes from the batch views when ws + windowMs <= the batch
 *   watermark (from the version `batchHours()` names for its hour; an hour below the watermark
 *   without a version has no rows), otherwise from the speed views.
 * - Aggregating windows into hour/day/total buckets sums them; a bucket whose windows are all
 *   batch says `batch`, all speed `speed`, both `mixed`. The source of a bucket depends only on
 *   which windows it covers and the watermark, never on which windows happen to have data.
 */

/** Where a window's numbers come from. */
export type ViewSource = 'batch' | 'speed';
/** Where a bucket's numbers come from: `mixed` when its windows straddle the batch watermark. */
export type RowSource = ViewSource | 'mixed';
/** Bucket size of an aggregated answer; `minute` is the tumbling window (`rules.windowMs`). */
export type Granularity = 'minute' | 'hour' | 'day' | 'total';

/** A query range: [from, to), ms since the epoch. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The hour buckets (`hourStart`) holding the windows that start in `range`. */
export function hoursOf(range: TimeRange): number[] {
  const hours: number[] = [];
  if (range.to <= range.from) return hours;
  for (let h = Math.floor(range.from / HOUR_MS) * HOUR_MS; h < range.to; h += HOUR_MS) hours.push(h);
  return hours;
}

/** The source of one window under the merge rule; no watermark (batch never ran) = speed. */
export function windowSource(windowStart: number, windowMs: number, watermark: number | null): ViewSource {
  return watermark !== null && windowStart + windowMs <= watermark ? 'batch' : 'speed';
}

/**
 * A hash as read from Redis: HGETALL's flat [field, value, ...] reply (what the readers return:
 * no object with thousands of keys is built), or an object.
 */
export type HashReply = readonly string[] | Readonly<Record<string, string>>;

/** Calls `fn` for each field of a hash reply. */
export function forEachField(hash: HashReply, fn: (field: string, value: string) => void): void {
  if (Array.isArray(hash)) {
    const flat = hash as readonly string[];
    for (let i = 0; i + 1 < flat.length; i += 2) fn(flat[i] as string, flat[i + 1] as string);
  } else {
    const record = hash as Readonly<Record<string, string>>;
    for (const f in record) fn(f, record[f] as string);
  }
}

/** Whether a hash reply has no field. */
export function isEmptyHash(hash: HashReply | null | undefined): boolean {
  if (!hash) return true;
  if (Array.isArray(hash)) return hash.length === 0;
  for (const _ in hash) return false;
  return true;
}

/** One hour of one windowed view as read from Redis. */
export interface HourHashes {
  readonly hourStart: number;
  /** The speed hash (null when not read because every window of the hour is batch). */
  readonly speed: HashReply | null;
  /** The batch hash of the hour's version (null when the hour has no version or was not read). */
  readonly batch: HashReply | null;
  /** The version served for the hour, null when none. */
  readonly batchVersion: string | null;
}

/** A windowed view over a range: the watermark it was merged at and the hours' hashes. */
export interface WindowedHashes {
  readonly watermark: number | null;
  readonly hours: readonly HourHashes[];
}

/** One field of a windowed hash, chosen by the merge rule. */
export interface MergedCell {
  readonly windowStart: number;
  /** The field parts after the window start, e.g. [adId, metric]. */
  readonly parts: readonly string[];
  readonly value: number;
  readonly source: ViewSource;
}

/**
 * Applies the merge rule: of each window starting in `range`, the fields of the layer that
 * serves it. Fields of the other layer for the same window are ignored.
 */
export function mergedCells(view: WindowedHashes, range: TimeRange, windowMs: number): MergedCell[] {
  const cells: MergedCell[] = [];
  forEachMergedField(view, range, windowMs, (windowStart, rest, value, source) => {
    cells.push({ windowStart, parts: fieldParts(rest), value, source });
  });
  return cells;
}

/**
 * The merge rule as a loop without allocations: `fn` gets, for each field of the layer serving
 * its window, the window start, the field after it (e.g. `adId\tmetric`), the value and the source.
 */
export function forEachMergedField(
  view: WindowedHashes,
  range: TimeRange,
  windowMs: number,
  fn: (windowStart: number, rest: string, value: number, source: ViewSource) => void,
): void {
  for (const hour of view.hours) {
    for (const [source, hash] of [
      ['speed', hour.speed],
      ['batch', hour.batch],
    ] as const) {
      if (!hash) continue;
      forEachField(hash, (f, v) => {
        const tab = f.indexOf(FIELD_SEPARATOR);
        const windowStart = Number(tab < 0 ? f : f.slice(0, tab));
        if (!(windowStart >= range.from && windowStart < range.to)) return;
        if (windowSource(windowStart, windowMs, view.watermark) !== source) return;
        const value = Number(v);
        if (!Number.isFinite(value)) return;
        fn(windowStart, tab < 0 ? '' : f.slice(tab + 1), value, source);
      });
    }
  }
}

/** Start and end of the bucket holding the window starting at `windowStart`. */
export function bucketOf(windowStart: number, granularity: Granularity, windowMs: number, range: TimeRange): { start: number; end: number } {
  switch (granularity) {
    case 'minute':
      return { start: windowStart, end: windowStart + windowMs };
    case 'hour': {
      const start = Math.floor(windowStart / HOUR_MS) * HOUR_MS;
      return { start, end: start + HOUR_MS };
    }
    case 'day': {
      const start = Math.floor(windowStart / DAY_MS) * DAY_MS;
      return { start, end: start + DAY_MS };
    }
    case 'total':
      return { start: range.from, end: range.to };
  }
}

/** The start of the bucket holding a window (no allocation; see {@link bucketOf}). */
function bucketStartOf(windowStart: number, granularity: Granularity, range: TimeRange): number {
  switch (granularity) {
    case 'minute':
      return windowStart;
    case 'hour':
      return Math.floor(windowStart / HOUR_MS) * HOUR_MS;
    case 'day':
      return Math.floor(windowStart / DAY_MS) * DAY_MS;
    case 'total':
      return range.from;
  }
}

/**
 * The source of a bucket [start, end) restricted to `range`: from the first and last window
 * starting in it. A bucket with no window in the range is `speed` (it cannot occur in answers).
 */
export function bucketSource(
  bucket: { start: number; end: number },
  range: TimeRange,
  windowMs: number,
  watermark: number | null,
): RowSource {
  const lo = Math.max(bucket.start, range.from);
  const hi = Math.min(bucket.end, range.to);
  const first = Math.ceil(lo / windowMs) * windowMs;
  const last = Math.floor((hi - 1) / windowMs) * windowMs;
  if (first > last) return 'speed';
  const a = windowSource(first, windowMs, watermark);
  const b = windowSource(last, windowMs, watermark);
  return a === b ? a : 'mixed';
}

/** Sorts rows by bucket start, then by a key. */
function byStartThenKey<T extends { start: number }>(key: (row: T) => string): (a: T, b: T) => number {
  return (a, b) => a.start - b.start || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

// ---- campaign metrics ----

/** Windowed touchpoint counts of one bucket (valid impressions and clicks, invalid apart). */
export interface MetricsRow {
  readonly start: number;
  readonly end: number;
  readonly impressions: number;
  readonly clicks: number;
  /** clicks / impressions; null without impressions (core's `clickThroughRate`). */
  readonly ctr: number | null;
  readonly invalidImpressions: number;
  readonly invalidClicks: number;
  readonly source: RowSource;
}

export interface MergeOptions {
  readonly range: TimeRange;
  readonly granularity: Granularity;
  readonly windowMs: number;
  readonly watermark: number | null;
}

const metricByField = new Map<string, keyof typeof windowMetricFields>(
  (Object.entries(windowMetricFields) as [keyof typeof windowMetricFields, string][]).map(([name, f]) => [f, name]),
);

/**
 * Campaign metrics per bucket from a campaign's metrics hashes (fields
 * `${windowStart}\t${adId}\t${metric}`) under the merge rule, summed over ads; only buckets
 * with data, by start. One pass over the fields, no per-field allocation (a day by minute is
 * 1,440 windows x ads x 4 fields).
 */
export function metricsRows(view: WindowedHashes, options: MergeOptions): MetricsRow[] {
  const buckets = new Map<number, { start: number; end: number; counts: Record<keyof typeof windowMetricFields, number> }>();
  forEachMergedField(view, options.range, options.windowMs, (windowStart, rest, value) => {
    const metric = metricByField.get(rest.slice(rest.lastIndexOf(FIELD_SEPARATOR) + 1));
    if (!metric) return;
    const start = bucketStartOf(windowStart, options.granularity, options.range);
    let bucket = buckets.get(start);
    if (!bucket) {
      const { end } = bucketOf(windowStart, options.granularity, options.windowMs, options.range);
      bucket = { start, end, counts: { impressions: 0, clicks: 0, invalidImpressions: 0, invalidClicks: 0 } };
      buckets.set(start, bucket);
    }
    bucket.counts[metric] += value;
  });
  return [...buckets.values()]
    .sort((a, b) => a.start - b.start)
    .map(({ start, end, counts }) => ({
      start,
      end,
      impressions: counts.impressions,
      clicks: counts.clicks,
      ctr: clickThroughRate(counts.clicks, counts.impressions),
      invalidImpressions: counts.invalidImpressions,
      invalidClicks: counts.invalidClicks,
      source: bucketSource({ start, end }, options.range, options.windowMs, options.watermark),
    }));
}

// ---- attribution ----

export type AttributionGroupBy = 'channel' | 'campaign';

/** Attributed conversions (sum of credit fractions) and revenue of one bucket and group. */
export interface AttributionRow {
  readonly start: number;
  readonly end: number;
  /** The channel or the campaign id, after `groupBy` (`direct` / `none` for empty paths). */
  readonly key: string;
  readonly conversions: number;
  readonly revenue: number;
  readonly source: RowSource;
}

/**
 * Attribution per bucket and group from the merged cells of a model's attribution hashes
 * (fields `${windowStart}\t${campaignId}\t${channel}\t${c|r}`), sorted by start then key.
 */
export function attributionRowsOf(
  cells: readonly MergedCell[],
  options: MergeOptions & { readonly groupBy: AttributionGroupBy },
): AttributionRow[] {
  const rows = new Map<string, { start: number; end: number; key: string; conversions: number; revenue: number }>();
  for (const cell of cells) {
    const [campaign, channel, kind] = cell.parts;
    if (campaign === undefined || channel === undefined || (kind !== 'c' && kind !== 'r')) continue;
    const key = options.groupBy === 'channel' ? channel : campaign;
    const { start, end } = bucketOf(cell.windowStart, options.granularity, options.windowMs, options.range);
    const id = `${start}${FIELD_SEPARATOR}${key}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { start, end, key, conversions: 0, revenue: 0 }));
    if (kind === 'c') row.conversions += cell.value;
    else row.revenue += cell.value;
  }
  return [...rows.values()]
    .map((r) => ({ ...r, source: bucketSource(r, options.range, options.windowMs, options.watermark) }))
    .sort(byStartThenKey((r) => r.key));
}

// ---- page heatmap ----

/** One element of a page heatmap over a range. */
export interface HeatmapElement {
  readonly elementId: string;
  readonly clicks: number;
  /** Share of the page's valid element clicks in the range, 0..1. */
  readonly share: number;
  /** 1 = most clicks; ties ordered by element id (core's `pageHeatmap`). */
  readonly rank: number;
}

/** The heatmap of a page over the whole range from merged cells (fields `${windowStart}\t${elementId}`). */
export function heatmapOf(cells: readonly MergedCell[]): HeatmapElement[] {
  const counts = cells.flatMap((c) => (c.parts[0] === undefined ? [] : [{ element_id: c.parts[0], clicks: c.value }]));
  return pageHeatmap(counts).map((c) => ({ elementId: c.element_id, clicks: c.clicks, share: c.fraction, rank: c.rank }));
}

// ---- reconciliation ----

/** A value in both layers and how far real time is from the batch truth. */
export interface Comparison {
  readonly speed: number;
  /** null when the hour has no batch version yet. */
  readonly batch: number | null;
  /** speed - batch (null without batch). */
  readonly diff: number | null;
  /** (speed - batch) / batch; null without batch or when batch is 0. */
  readonly relDiff: number | null;
}

export function compareValues(speed: number, batch: number | null): Comparison {
  if (batch === null) return { speed, batch, diff: null, relDiff: null };
  const diff = speed - batch;
  return { speed, batch, diff, relDiff: batch === 0 ? null : diff / batch };
}

export type MetricTotals = Record<keyof typeof windowMetricFields, number>;

/** Totals of one campaign-hour metrics hash (every window and ad of the hour). */
export function sumMetricsHash(hash: HashReply | null): MetricTotals {
  const totals: MetricTotals = { impressions: 0, clicks: 0, invalidImpressions: 0, invalidClicks: 0 };
  if (!hash) return totals;
  forEachField(hash, (f, v) => {
    const metric = metricByField.get(f.slice(f.lastIndexOf(FIELD_SEPARATOR) + 1));
    const value = Number(v);
    if (metric && Number.isFinite(value)) totals[metric] += value;
  });
  return totals;
}

/** Totals per campaign of one model-hour attribution hash. */
export function sumAttributionByCampaign(hash: HashReply | null): Map<string, { conversions: number; revenue: number }> {
  const byCampaign = new Map<string, { conversions: number; revenue: number }>();
  if (!hash) return byCampaign;
  forEachField(hash, (f, v) => {
    const [, campaign, , kind] = fieldParts(f);
    const value = Number(v);
    if (campaign === undefined || !Number.isFinite(value)) return;
    const t = byCampaign.get(campaign) ?? { conversions: 0, revenue: 0 };
    if (kind === 'c') t.conversions += value;
    else if (kind === 'r') t.revenue += value;
    byCampaign.set(campaign, t);
  });
  return byCampaign;
}

/** Cause counts per campaign of a quality hash (fields `${campaignId}\t${cause}`). */
export function causesByCampaign(hash: HashReply | null): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  if (!hash) return out;
  forEachField(hash, (f, v) => {
    const tab = f.indexOf(FIELD_SEPARATOR);
    const value = Number(v);
    if (tab < 0 || !Number.isFinite(value)) return;
    const campaign = f.slice(0, tab);
    const causes = out.get(campaign) ?? new Map<string, number>();
    causes.set(f.slice(tab + 1), (causes.get(f.slice(tab + 1)) ?? 0) + value);
    out.set(campaign, causes);
  });
  return out;
}

/** Why the layers differ, from the cause counts both layers record. */
export interface ReconciliationCauses {
  /** Speed layer only: events kept out of the windowed views because their window had closed, by type. */
  readonly late: Record<string, number>;
  readonly duplicates: { readonly speed: number; readonly batch: number | null };
  /** Invalid touchpoints by reason, as each layer classified them. */
  readonly invalid: { readonly speed: Record<string, number>; readonly batch: Record<string, number> | null };
  /** Any other cause a layer recorded, as `layer:cause`. */
  readonly other: Record<string, number>;
}

export function reconciliationCauses(speed: Map<string, number> | undefined, batch: Map<string, number> | undefined, batchComputed: boolean): ReconciliationCauses {
  const late: Record<string, number> = {};
  const invalidSpeed: Record<string, number> = {};
  const invalidBatch: Record<string, number> = {};
  const other: Record<string, number> = {};
  let dupSpeed = 0;
  let dupBatch = 0;
  for (const [cause, n] of speed ?? []) {
    if (cause.startsWith('late_')) late[cause.slice(5)] = (late[cause.slice(5)] ?? 0) + n;
    else if (cause === 'duplicates') dupSpeed += n;
    else if (cause.startsWith('invalid:')) invalidSpeed[cause.slice(8)] = (invalidSpeed[cause.slice(8)] ?? 0) + n;
    else other[`speed:${cause}`] = n;
  }
  for (const [cause, n] of batch ?? []) {
    if (cause === 'duplicates') dupBatch += n;
    else if (cause.startsWith('invalid:')) invalidBatch[cause.slice(8)] = (invalidBatch[cause.slice(8)] ?? 0) + n;
    else other[`batch:${cause}`] = n;
  }
  return {
    late,
    duplicates: { speed: dupSpeed, batch: batchComputed ? dupBatch : null },
    invalid: { speed: invalidSpeed, batch: batchComputed ? invalidBatch : null },
    other,
  };
}

/** One hour as the reconciliation reader returns it. */
export interface ReconciliationHour {
  readonly hourStart: number;
  /** The batch version served for the hour; null when the batch layer has not computed it. */
  readonly batch: BatchHourEntry | null;
  /** campaign -> its speed metrics hash of the hour. */
  readonly speedMetrics: ReadonlyMap<string, HashReply>;
  /** campaign -> its batch metrics hash (empty map without a version). */
  readonly batchMetrics: ReadonlyMap<string, HashReply>;
  readonly speedQuality: HashReply | null;
  readonly batchQuality: HashReply | null;
  /** `${campaignId}` -> JSON the batch layer wrote about what changed. */
  readonly batchChanges: HashReply | null;
  readonly speedAttribution: HashReply | null;
  readonly batchAttribution: HashReply | null;
}

export interface ReconciliationData {
  readonly watermark: number | null;
  /** The Shapley table version currently published (the speed layer applies the latest). */
  readonly shapleyVersion: string | null;
  readonly hours: readonly ReconciliationHour[];
}

/** One hour and campaign of the reconciliation report. */
export interface ReconciliationRow {
  readonly hourStart: number;
  readonly campaignId: string;
  readonly batchVersion: string | null;
  readonly batchComputedAt: number | null;
  /** The Shapley table version the batch hour's attribution used (null: none, or no batch). */
  readonly batchShapleyVersion: string | null;
  /** Whether the whole hour is below the batch watermark (the API serves batch numbers for it). */
  readonly authoritative: boolean;
  readonly impressions: Comparison;
  readonly clicks: Comparison;
  readonly invalidImpressions: Comparison;
  readonly invalidClicks: Comparison;
  /** Attributed conversions and revenue credited to the campaign, for the chosen model. */
  readonly conversions: Comparison;
  readonly revenue: Comparison;
  readonly causes: ReconciliationCauses;
  /** The batch layer's note on what changed (parsed JSON), null when none. */
  readonly changes: unknown;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The reconciliation report: per hour and campaign, speed vs batch values and the cause
 * counts. `campaignId` (when given) keeps only that campaign; otherwise every campaign with
 * data in either layer, including the pseudo campaigns `none` (direct conversions) and `*`
 * (causes of events without a campaign). Sorted by hour, then campaign.
 */
export function reconciliationRows(data: ReconciliationData, campaignId: string | null): ReconciliationRow[] {
  const rows: ReconciliationRow[] = [];
  for (const hour of data.hours) {
    const computed = hour.batch !== null;
    const speedCauses = causesByCampaign(hour.speedQuality);
    const batchCauses = causesByCampaign(hour.batchQuality);
    const speedAttr = sumAttributionByCampaign(hour.speedAttribution);
    const batchAttr = sumAttributionByCampaign(hour.batchAttribution);
    const campaigns = new Set<string>();
    const changes = new Map<string, string>();
    if (hour.batchChanges) forEachField(hour.batchChanges, (c, json) => changes.set(c, json));
    for (const [c, hash] of [...hour.speedMetrics, ...hour.batchMetrics]) if (!isEmptyHash(hash)) campaigns.add(c);
    for (const c of [...speedCauses.keys(), ...batchCauses.keys(), ...speedAttr.keys(), ...batchAttr.keys(), ...changes.keys()]) campaigns.add(c);
    const ordered = [...campaigns].filter((c) => campaignId === null || c === campaignId).sort();
    for (const c of ordered) {
      const s = sumMetricsHash(hour.speedMetrics.get(c) ?? null);
      const b = computed ? sumMetricsHash(hour.batchMetrics.get(c) ?? null) : null;
      const sa = speedAttr.get(c) ?? { conversions: 0, revenue: 0 };
      const ba = computed ? (batchAttr.get(c) ?? { conversions: 0, revenue: 0 }) : null;
      rows.push({
        hourStart: hour.hourStart,
        campaignId: c,
        batchVersion: hour.batch?.version ?? null,
        batchComputedAt: hour.batch?.computedAt ?? null,
        batchShapleyVersion: hour.batch?.shapleyVersion ?? null,
        authoritative: data.watermark !== null && hour.hourStart + HOUR_MS <= data.watermark,
        impressions: compareValues(s.impressions, b?.impressions ?? null),
        clicks: compareValues(s.clicks, b?.clicks ?? null),
        invalidImpressions: compareValues(s.invalidImpressions, b?.invalidImpressions ?? null),
        invalidClicks: compareValues(s.invalidClicks, b?.invalidClicks ?? null),
        conversions: compareValues(sa.conversions, ba?.conversions ?? null),
        revenue: compareValues(sa.revenue, ba?.revenue ?? null),
        causes: reconciliationCauses(speedCauses.get(c), batchCauses.get(c), computed),
        changes: parseJson(changes.get(c)),
      });
    }
  }
  return rows;
}
