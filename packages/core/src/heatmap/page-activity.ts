import type { FormAction } from '@sigflow/events';

/** The scroll depths a page view is measured at (DESIGN.md, "Web tracker"). */
export const scrollMilestones = [25, 50, 75, 100] as const;
export type ScrollMilestone = (typeof scrollMilestones)[number];

/**
 * What one valid page event counts in its page's activity view, besides element clicks:
 * - `['view']`: a page view (the denominator of scroll reach);
 * - `['scroll', m]`: a page view reached scroll milestone m;
 * - `['form', formId, action]`: a form interaction (funnels);
 * - `['mouse', cellX, cellY]`: a mouse move in that grid cell.
 */
export type PageActivityMetric =
  | readonly ['view']
  | readonly ['scroll', ScrollMilestone]
  | readonly ['form', string, FormAction]
  | readonly ['mouse', number, number];

/** Events of one page, window and metric. As an increment `count` is 1; folded, a sum. */
export interface PageActivityIncrement {
  readonly page_id: string;
  readonly windowStart: number;
  readonly metric: PageActivityMetric;
  readonly count: number;
}

/**
 * The milestone a scroll event reports: the largest of 25/50/75/100 at or below its depth
 * (null under 25). The tracker sends each milestone once per page view, at exactly that depth,
 * so counting scroll events per milestone counts the page views that reached it. A client that
 * reports other depths is counted at the milestone below.
 */
export function scrollMilestone(depth: number): ScrollMilestone | null {
  for (let i = scrollMilestones.length - 1; i >= 0; i--) {
    const m = scrollMilestones[i] as ScrollMilestone;
    if (depth >= m) return m;
  }
  return null;
}

/** The grid cell of document coordinates (x, y): `gridPx` square cells from the page's top-left corner. */
export function mouseCell(x: number, y: number, gridPx: number): readonly [number, number] {
  return [Math.floor(x / gridPx), Math.floor(y / gridPx)];
}
