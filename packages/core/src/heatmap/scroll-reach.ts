import { scrollMilestones, type ScrollMilestone } from './page-activity.js';

/** How many of a page's views reached one scroll depth. */
export interface ScrollReachRow {
  readonly depth: ScrollMilestone;
  readonly reached: number;
  /** reached / page views (0..1, capped at 1); null without page views. */
  readonly share: number | null;
}

/**
 * Scroll reach of a page (DESIGN.md, "Page heatmap"): for each of 25/50/75/100 %, the share of
 * its page views whose viewport bottom reached that depth. `reached` counts the scroll
 * milestones of the page's valid scroll events. A range can cut a page view in two (its
 * page_view before `from`, its scrolls after): the share is capped at 1.
 */
export function scrollReach(pageViews: number, reached: ReadonlyMap<ScrollMilestone, number>): ScrollReachRow[] {
  return scrollMilestones.map((depth) => {
    const n = reached.get(depth) ?? 0;
    return { depth, reached: n, share: pageViews > 0 ? Math.min(1, n / pageViews) : null };
  });
}
