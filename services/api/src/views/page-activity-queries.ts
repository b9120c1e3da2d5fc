import { pageActivityViewKeys, readPageUrl, readWindowedView, type TimeRange } from '@sigflow/store/views';
import { bucketSource, formFunnelsOf, hourLayers, mergedCells, mouseGridOf, scrollReachOf, type MergedCell, type RowSource } from '@sigflow/serving';
import type { FormFunnel, MouseGrid, ScrollReachRow } from '@sigflow/core';
import type { ApiContext } from '../context.js';

/** What every page activity answer says: the page, the range, where the numbers come from. */
interface PageAnswer {
  pageId: string;
  from: number;
  to: number;
  batchWatermark: number | null;
  source: RowSource;
}

/** The merged page activity cells of a page over a range (both layers, by the merge rule). */
async function pageActivityCells(ctx: ApiContext, pageId: string, range: TimeRange): Promise<{ answer: PageAnswer; cells: MergedCell[] }> {
  const windowMs = ctx.config.rules.windowMs;
  const view = await readWindowedView(ctx.analyticsRedis, ctx.keys, pageActivityViewKeys(ctx.keys, pageId, ctx.config.kafka.eventPartitions), range, hourLayers(windowMs), ctx.closedHours);
  const source = bucketSource({ start: range.from, end: range.to }, range, windowMs, view.watermark);
  return { answer: { pageId, from: range.from, to: range.to, batchWatermark: view.watermark, source }, cells: mergedCells(view, range, windowMs) };
}

export async function scrollReachOver(ctx: ApiContext, pageId: string, range: TimeRange): Promise<PageAnswer & { pageViews: number; depths: ScrollReachRow[] }> {
  const { answer, cells } = await pageActivityCells(ctx, pageId, range);
  return { ...answer, ...scrollReachOf(cells) };
}

export async function formFunnelsOver(ctx: ApiContext, pageId: string, range: TimeRange): Promise<PageAnswer & { forms: FormFunnel[] }> {
  const { answer, cells } = await pageActivityCells(ctx, pageId, range);
  return { ...answer, forms: formFunnelsOf(cells) };
}

export async function mouseMovesOver(ctx: ApiContext, pageId: string, range: TimeRange): Promise<PageAnswer & MouseGrid> {
  const { answer, cells } = await pageActivityCells(ctx, pageId, range);
  return { ...answer, ...mouseGridOf(cells, ctx.config.rules.mouseGridPx) };
}

/**
 * The URL a page's latest page view reported (the heatmap shows that page), or null. Only
 * http(s) URLs are ever stored; the dashboard frames it sandboxed and never on its own origin.
 */
export async function pageUrlOf(ctx: ApiContext, pageId: string): Promise<{ pageId: string; url: string | null }> {
  const url = await readPageUrl(ctx.analyticsRedis, ctx.keys, pageId, ctx.config.kafka.eventPartitions);
  return { pageId, url: url !== null && /^https?:\/\//.test(url) ? url : null };
}
