import type { BiddingSettings } from './bidding-settings.js';

/** Where a campaign's spend today stands against its budget. */
export type BudgetStatus = 'exhausted' | 'over' | 'under' | 'on';

/**
 * pace = spend_today / (budget x elapsed fraction of the day): 1 spends the budget evenly over
 * the day. Null when nothing was to be spent yet (a budget of 0, or the day's first instant).
 */
export function paceOf(spendTodayMicros: number, dailyBudgetMicros: number, elapsed: number): number | null {
  const expected = dailyBudgetMicros * elapsed;
  return expected > 0 ? spendTodayMicros / expected : null;
}

/**
 * `exhausted` once spend_today >= budget, else `over` above `overPace`, `under` below
 * `underPace`, `on` between (and while the pace is not defined yet).
 */
export function budgetStatus(spendTodayMicros: number, dailyBudgetMicros: number, pace: number | null, settings: BiddingSettings): BudgetStatus {
  if (spendTodayMicros >= dailyBudgetMicros) return 'exhausted';
  if (pace === null) return 'on';
  if (pace > settings.overPace) return 'over';
  if (pace < settings.underPace) return 'under';
  return 'on';
}
