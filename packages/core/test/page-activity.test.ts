import { describe, expect, it } from 'vitest';
import type { SigflowEvent } from '@sigflow/events';
import { defaultRuleSettings, foldOutcomes, formFunnels, mouseGrid, scrollReach, type ScrollMilestone } from '../src/index.js';
import { scrollMilestone } from '../src/heatmap/page-activity.js';
import { CHROME_UA, GOOGLEBOT_UA, MINUTE, SECOND, T0, pageView, runSpeed } from './helpers.js';

let n = 0;
const base = (ts: number, ua = CHROME_UA) => ({ event_id: `e${++n}`, user_id: 'u1', ts, received_at: ts, user_agent: ua });
const scroll = (ts: number, depth: number, page = 'landing'): SigflowEvent => ({ ...base(ts), type: 'scroll', page_id: page, depth });
const form = (ts: number, form_id: string, action: 'focus' | 'input' | 'submit' | 'abandon', page: string | null = 'landing'): SigflowEvent =>
  ({ ...base(ts), type: 'form_interaction', form_id, action, ...(page ? { page_id: page } : {}) }) as SigflowEvent;
const move = (ts: number, x: number, y: number, ua = CHROME_UA): SigflowEvent => ({ ...base(ts, ua), type: 'mouse_move', page_id: 'landing', x, y });

describe('page activity view (one definition for both layers)', () => {
  it('counts page views, scroll milestones, form actions and mouse cells of valid, on-time events', () => {
    const events: SigflowEvent[] = [
      pageView({ id: 'pv1', ts: T0, page: 'landing' }),
      scroll(T0 + SECOND, 25),
      scroll(T0 + 2 * SECOND, 50),
      scroll(T0 + 3 * SECOND, 10), // under 25: no milestone
      scroll(T0 + 4 * SECOND, 99), // another client's depth: counted at 75
      form(T0 + 5 * SECOND, 'signup', 'focus'),
      form(T0 + 6 * SECOND, 'signup', 'abandon'),
      form(T0 + 7 * SECOND, 'newsletter', 'focus', null), // no page: not a page's funnel
      move(T0 + 8 * SECOND, 0, 0),
      move(T0 + 9 * SECOND, 31, 31), // same 32 px cell as (0, 0)
      move(T0 + 10 * SECOND, 32, 95), // cell (1, 2)
      move(T0 + 11 * SECOND, 40, 70, GOOGLEBOT_UA), // a bot: invalid, not counted
      move(T0 + MINUTE, 5, 5), // next window
    ];
    const { outcomes } = runSpeed(events);
    const rows = foldOutcomes(outcomes).pageActivity.map((r) => [r.windowStart - T0, ...r.metric, r.count]);
    expect(rows).toEqual([
      [0, 'form', 'signup', 'abandon', 1],
      [0, 'form', 'signup', 'focus', 1],
      [0, 'mouse', 0, 0, 2],
      [0, 'mouse', 1, 2, 1],
      [0, 'scroll', 25, 1],
      [0, 'scroll', 50, 1],
      [0, 'scroll', 75, 1],
      [0, 'view', 1],
      [MINUTE, 'mouse', 0, 0, 1],
    ]);
  });

  it('leaves late events out (the batch layer counts them)', () => {
    const { outcomes } = runSpeed([pageView({ id: 'now', ts: T0 + 10 * MINUTE, page: 'p' }), move(T0, 1, 1)]);
    expect(outcomes[1]!.late).toBe(true);
    expect(outcomes[1]!.pageActivity).toBeNull();
  });

  it('uses the configured grid size', () => {
    const { outcomes } = runSpeed([move(T0, 250, 1_010)], { settings: { ...defaultRuleSettings, mouseGridPx: 100 } });
    expect(outcomes[0]!.pageActivity?.metric).toEqual(['mouse', 2, 10]);
  });

  it('scroll milestone is the largest of 25/50/75/100 at or below the depth', () => {
    expect([0, 24.9, 25, 49, 50, 74.99, 75, 99.9, 100].map(scrollMilestone)).toEqual([null, null, 25, 25, 50, 50, 75, 75, 100]);
  });
});

describe('page activity answers', () => {
  it('scroll reach: reached / page views per depth, capped at 1, null without views', () => {
    const reached = new Map<ScrollMilestone, number>([
      [25, 8],
      [50, 5],
      [75, 2],
    ]);
    expect(scrollReach(8, reached)).toEqual([
      { depth: 25, reached: 8, share: 1 },
      { depth: 50, reached: 5, share: 0.625 },
      { depth: 75, reached: 2, share: 0.25 },
      { depth: 100, reached: 0, share: 0 },
    ]);
    expect(scrollReach(4, reached)[0]!.share).toBe(1);
    expect(scrollReach(0, reached)[1]!.share).toBeNull();
  });

  it('form funnels: per form, entries, submits and abandons with rates; most entries first', () => {
    const funnels = formFunnels([
      { form_id: 'signup', action: 'focus', count: 4 },
      { form_id: 'signup', action: 'input', count: 3 },
      { form_id: 'signup', action: 'submit', count: 1 },
      { form_id: 'signup', action: 'abandon', count: 3 },
      { form_id: 'search', action: 'submit', count: 2 },
      { form_id: 'newsletter', action: 'focus', count: 4 },
    ]);
    expect(funnels).toEqual([
      { formId: 'newsletter', focus: 4, input: 0, submit: 0, abandon: 0, submitRate: 0, abandonRate: 0 },
      { formId: 'signup', focus: 4, input: 3, submit: 1, abandon: 3, submitRate: 0.25, abandonRate: 0.75 },
      { formId: 'search', focus: 0, input: 0, submit: 2, abandon: 0, submitRate: null, abandonRate: null },
    ]);
  });

  it('mouse grid: cells summed and ordered top to bottom, shares of all moves, the densest cell', () => {
    const grid = mouseGrid(
      [
        { cellX: 3, cellY: 1, moves: 2 },
        { cellX: 0, cellY: 2, moves: 5 },
        { cellX: 3, cellY: 1, moves: 1 },
        { cellX: 9, cellY: 0, moves: 0 },
      ],
      32,
    );
    expect(grid).toEqual({
      gridPx: 32,
      totalMoves: 8,
      maxMoves: 5,
      cells: [
        { cellX: 3, cellY: 1, moves: 3, share: 3 / 8 },
        { cellX: 0, cellY: 2, moves: 5, share: 5 / 8 },
      ],
    });
  });
});
