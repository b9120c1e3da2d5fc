import { pageHeatmap } from '@sigflow/core';
import type { MergedCell } from './merge-rule.js';

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
