import { isKnownTimeZone } from './budget-day.js';

/** A campaign's daily budget as ops set it (DESIGN.md "Spend and pacing"). */
export interface Budget {
  /** Integer micros of the campaign's currency per budget day. */
  readonly dailyBudgetMicros: number;
  /** IANA zone whose calendar day the budget runs over (`UTC` by default). */
  readonly timeZone: string;
  /** The return on ad spend the campaign aims at: the bid multiplier's ROAS factor is roas / target. */
  readonly targetRoas: number;
}

/** Bounds of a budget's fields. */
export const budgetLimits = Object.freeze({
  /** 1e15 micros: a billion currency units a day. */
  maxDailyBudgetMicros: 1_000_000_000_000_000,
  /** target_roas is > 0 and at most this. */
  maxTargetRoas: 1_000,
});

/** What is wrong with a budget, naming the field; null when it is usable. */
export function budgetProblem(budget: Budget): { readonly field: keyof Budget; readonly message: string } | null {
  const { dailyBudgetMicros, timeZone, targetRoas } = budget;
  if (!Number.isSafeInteger(dailyBudgetMicros) || dailyBudgetMicros < 0 || dailyBudgetMicros > budgetLimits.maxDailyBudgetMicros) {
    return { field: 'dailyBudgetMicros', message: `dailyBudgetMicros must be an integer number of micros from 0 to ${budgetLimits.maxDailyBudgetMicros}` };
  }
  if (typeof timeZone !== 'string' || !isKnownTimeZone(timeZone)) {
    return { field: 'timeZone', message: `timeZone must be an IANA time zone name such as UTC or Europe/Berlin (got ${JSON.stringify(timeZone)?.slice(0, 70)})` };
  }
  if (!(Number.isFinite(targetRoas) && targetRoas > 0 && targetRoas <= budgetLimits.maxTargetRoas)) {
    return { field: 'targetRoas', message: `targetRoas must be a number > 0 and at most ${budgetLimits.maxTargetRoas}` };
  }
  return null;
}
