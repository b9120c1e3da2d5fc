import {
  formFunnels,
  mouseGrid,
  scrollMilestones,
  scrollReach,
  type FormActionCount,
  type FormFunnel,
  type MouseCellCount,
  type MouseGrid,
  type ScrollMilestone,
  type ScrollReachRow,
} from '@sigflow/core';
import type { MergedCell } from './merge-rule.js';

const formActions: ReadonlySet<string> = new Set(['focus', 'input', 'submit', 'abandon']);
const milestones: ReadonlySet<number> = new Set(scrollMilestones);

// The page activity view's merged fields (after the window start: `view`, `scroll\t<m>`,
// `form\t<formId>\t<action>`, `mouse\t<x>\t<y>`; store's layout) read back into core's
// inputs, whose functions give the answers. Fields of another shape are skipped.

/** Page views and scroll reach of a page over the merged cells of a range. */
export function scrollReachOf(cells: readonly MergedCell[]): { pageViews: number; depths: ScrollReachRow[] } {
  let pageViews = 0;
  const reached = new Map<ScrollMilestone, number>();
  for (const c of cells) {
    if (c.parts[0] === 'view' && c.parts.length === 1) pageViews += c.value;
    else if (c.parts[0] === 'scroll' && c.parts.length === 2) {
      const m = Number(c.parts[1]);
      if (milestones.has(m)) reached.set(m as ScrollMilestone, (reached.get(m as ScrollMilestone) ?? 0) + c.value);
    }
  }
  return { pageViews, depths: scrollReach(pageViews, reached) };
}

/** The form funnels of a page over the merged cells of a range. */
export function formFunnelsOf(cells: readonly MergedCell[]): FormFunnel[] {
  const counts: FormActionCount[] = [];
  for (const c of cells) {
    if (c.parts[0] !== 'form' || c.parts.length !== 3 || !formActions.has(c.parts[2] as string)) continue;
    counts.push({ form_id: c.parts[1] as string, action: c.parts[2] as FormActionCount['action'], count: c.value });
  }
  return formFunnels(counts);
}

/** The mouse-move grid of a page over the merged cells of a range. */
export function mouseGridOf(cells: readonly MergedCell[], gridPx: number): MouseGrid {
  const counts: MouseCellCount[] = [];
  for (const c of cells) {
    if (c.parts[0] !== 'mouse' || c.parts.length !== 3) continue;
    const cellX = Number(c.parts[1]);
    const cellY = Number(c.parts[2]);
    if (Number.isInteger(cellX) && Number.isInteger(cellY)) counts.push({ cellX, cellY, moves: c.value });
  }
  return mouseGrid(counts, gridPx);
}
