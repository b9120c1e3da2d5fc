import { ReadLimitError } from '@sigflow/store';
import { attributionViewKeys, eventCountViewKeys, heatmapViewKeys, metricsViewKeys, readReconciliation, readWindowedView, spendViewKeys, type TimeRange, type WindowedHashes, type WindowedViewKeys } from '@sigflow/store/views';
import {
  attributionRowsOf,
  eventCountRows,
  type EventCountRow,
  bucketSource,
  heatmapOf,
  hourLayers,
  mergedCells,
  metricsRows,
  reconciliationRows,
  spendRows,
  type SpendRow,
  type AttributionGroupBy,
  type AttributionRow,
  type Granularity,
  type MergeOptions,
  type HeatmapElement,
  type MetricsRow,
  type ReconciliationRow,
  type RowSource,
} from '@sigflow/serving';
import { HOUR_MS, hourStart } from '@sigflow/core';
import type { ApiContext } from '../context.js';
import { BadParameterError } from '../errors.js';
import { parseRange } from '../http/params.js';

/**
 * The analyst queries, shared by the JSON routes and the exports. Each reads its hashes in two
 * pipelined round trips (batch versions, then the hashes) with the readers of `@sigflow/store`
 * and merges them with the pure functions of `@sigflow/serving` (the merge rule and the
 * reconciliation; see packages/serving/README.md).
 */

/** The range of an analyst query: `from`/`to` as given, else the hour up to now; at most `api.maxRangeMs`. */
export function queryRange(ctx: ApiContext, query: { readonly from?: string; readonly to?: string }): TimeRange {
  return parseRange(query.from, query.to, { now: ctx.now(), maxRangeMs: ctx.config.api.maxRangeMs, defaultSpanMs: 3_600_000 });
}

/** A campaign's windowed series (metrics, spend) over a range, per bucket. */
export interface SeriesAnswer<R> {
  campaignId: string;
  from: number;
  to: number;
  granularity: Granularity;
  windowMs: number;
  batchWatermark: number | null;
  rows: R[];
}

/** Reads one campaign view of `keysOf` over the range and merges it into rows with `rowsOf`. */
async function campaignSeries<R>(
  ctx: ApiContext,
  campaignId: string,
  range: TimeRange,
  granularity: Granularity,
  keysOf: (keys: ApiContext['keys'], campaignId: string, partitions: number) => WindowedViewKeys,
  rowsOf: (view: WindowedHashes, options: MergeOptions) => R[],
): Promise<SeriesAnswer<R>> {
  const windowMs = ctx.config.rules.windowMs;
  const view = await readWindowedView(ctx.analyticsRedis, ctx.keys, keysOf(ctx.keys, campaignId, ctx.config.kafka.eventPartitions), range, hourLayers(windowMs), ctx.closedHours);
  const rows = rowsOf(view, { range, granularity, windowMs, watermark: view.watermark });
  return { campaignId, from: range.from, to: range.to, granularity, windowMs, batchWatermark: view.watermark, rows };
}

/** A campaign's impressions, clicks, CTR and invalid traffic per bucket under the merge rule. */
export function campaignMetrics(ctx: ApiContext, campaignId: string, range: TimeRange, granularity: Granularity): Promise<SeriesAnswer<MetricsRow>> {
  return campaignSeries(ctx, campaignId, range, granularity, metricsViewKeys, metricsRows);
}

/** A campaign's spend per bucket and channel under the merge rule. */
export function campaignSpend(ctx: ApiContext, campaignId: string, range: TimeRange, granularity: Granularity): Promise<SeriesAnswer<SpendRow>> {
  return campaignSeries(ctx, campaignId, range, granularity, spendViewKeys, spendRows);
}

export interface AttributionAnswer {
  model: string;
  groupBy: AttributionGroupBy;
  granularity: Granularity;
  from: number;
  to: number;
  windowMs: number;
  batchWatermark: number | null;
  rows: AttributionRow[];
}

export async function attribution(
  ctx: ApiContext,
  model: string,
  groupBy: AttributionGroupBy,
  range: TimeRange,
  granularity: Granularity,
): Promise<AttributionAnswer> {
  const windowMs = ctx.config.rules.windowMs;
  const view = await readWindowedView(ctx.analyticsRedis, ctx.keys, attributionViewKeys(ctx.keys, model, ctx.config.kafka.eventPartitions), range, hourLayers(windowMs), ctx.closedHours);
  const rows = attributionRowsOf(mergedCells(view, range, windowMs), { range, granularity, windowMs, watermark: view.watermark, groupBy });
  return { model, groupBy, granularity, from: range.from, to: range.to, windowMs, batchWatermark: view.watermark, rows };
}

export interface EventCountsAnswer {
  granularity: Granularity;
  from: number;
  to: number;
  windowMs: number;
  batchWatermark: number | null;
  rows: EventCountRow[];
}

/** Custom events per bucket and name (valid, invalid by reason) under the merge rule. */
export async function eventCounts(ctx: ApiContext, range: TimeRange, granularity: Granularity, names: ReadonlySet<string> | undefined): Promise<EventCountsAnswer> {
  const windowMs = ctx.config.rules.windowMs;
  const view = await readWindowedView(ctx.analyticsRedis, ctx.keys, eventCountViewKeys(ctx.keys, ctx.config.kafka.eventPartitions), range, hourLayers(windowMs), ctx.closedHours);
  const rows = eventCountRows(mergedCells(view, range, windowMs), { range, granularity, windowMs, watermark: view.watermark, names });
  return { granularity, from: range.from, to: range.to, windowMs, batchWatermark: view.watermark, rows };
}

export interface HeatmapAnswer {
  pageId: string;
  from: number;
  to: number;
  batchWatermark: number | null;
  source: RowSource;
  totalClicks: number;
  elements: HeatmapElement[];
}

export async function pageHeatmapOver(ctx: ApiContext, pageId: string, range: TimeRange): Promise<HeatmapAnswer> {
  const windowMs = ctx.config.rules.windowMs;
  const view = await readWindowedView(ctx.analyticsRedis, ctx.keys, heatmapViewKeys(ctx.keys, pageId, ctx.config.kafka.eventPartitions), range, hourLayers(windowMs), ctx.closedHours);
  const elements = heatmapOf(mergedCells(view, range, windowMs));
  return {
    pageId,
    from: range.from,
    to: range.to,
    batchWatermark: view.watermark,
    source: bucketSource({ start: range.from, end: range.to }, range, windowMs, view.watermark),
    totalClicks: elements.reduce((sum, e) => sum + e.clicks, 0),
    elements,
  };
}

export interface ReconciliationAnswer {
  from: number;
  to: number;
  model: string;
  batchWatermark: number | null;
  shapleyVersion: string | null;
  rows: ReconciliationRow[];
}

export async function reconciliation(ctx: ApiContext, range: TimeRange, campaignId: string | null, model: string): Promise<ReconciliationAnswer> {
  // Whole hours: the layers are compared per hour.
  const hourly = { from: hourStart(range.from), to: hourStart(range.to - 1) + HOUR_MS };
  try {
    const data = await readReconciliation(ctx.analyticsRedis, ctx.keys, {
      range: hourly,
      partitions: ctx.config.kafka.eventPartitions,
      campaigns: campaignId === null ? 'all' : [campaignId],
      model,
      maxCampaignHours: ctx.maxCampaignHours,
    });
    return {
      from: hourly.from,
      to: hourly.to,
      model,
      batchWatermark: data.watermark,
      shapleyVersion: data.shapleyVersion,
      rows: reconciliationRows(data, campaignId),
    };
  } catch (err) {
    if (err instanceof ReadLimitError) throw new BadParameterError('to', `${err.message}: narrow from..to or name a campaignId`);
    throw err;
  }
}
