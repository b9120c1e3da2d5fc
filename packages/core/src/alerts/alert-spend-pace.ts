import type { BiddingSettings } from '../pacing/bidding-settings.js';
import type { Budget } from '../pacing/budget.js';
import { campaignBidding, type SpendCell } from '../pacing/campaign-bidding.js';

/**
 * The `spend_pace` of a campaign at a window's end (DESIGN.md "Spend and pacing"): its pace as
 * of that instant, from the spend of the windows that had ended by then (later windows, read in
 * a backlog, are left out). Null when nothing was to be spent yet.
 */
export function spendPaceAt(windowEnd: number, budget: Budget, spend: Iterable<SpendCell>, settings: BiddingSettings): number | null {
  const before: SpendCell[] = [];
  for (const c of spend) if (c.windowStart < windowEnd) before.push(c);
  return campaignBidding({ t: windowEnd, budget, spend: before, revenue: [], settings }).pace;
}
