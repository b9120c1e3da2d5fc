import { compareCodePoints } from '../ordering/event-order.js';

/** Valid element_click count of one element of a page in one window. */
export interface ElementClicks {
  readonly element_id: string;
  readonly clicks: number;
}

/** One heatmap cell. */
export interface HeatmapCell extends ElementClicks {
  /** Share of the page's clicks in the window (0..1). */
  readonly fraction: number;
  /** 1 = most clicks; ties ordered by element_id, so ranks are distinct. */
  readonly rank: number;
}

/**
 * The heatmap of one page and window from its per-element counts (elements with 0 clicks are
 * dropped; an element listed twice is summed). Sorted by rank.
 */
export function pageHeatmap(counts: readonly ElementClicks[]): HeatmapCell[] {
  const byElement = new Map<string, number>();
  for (const c of counts) byElement.set(c.element_id, (byElement.get(c.element_id) ?? 0) + c.clicks);
  const rows = [...byElement].filter(([, n]) => n > 0);
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  rows.sort(([ea, na], [eb, nb]) => nb - na || compareCodePoints(ea, eb));
  return rows.map(([element_id, clicks], i) => ({ element_id, clicks, fraction: clicks / total, rank: i + 1 }));
}
