import { compareCodePoints } from '../ordering/event-order.js';
import type { BiddingSettings } from './bidding-settings.js';
import { bidMultiplier, type MultiplierInputs, type MultiplierReason } from './bid-multiplier.js';
import type { Budget } from './budget.js';
import { budgetDay, elapsedFraction } from './budget-day.js';
import { budgetStatus, paceOf, type BudgetStatus } from './pace.js';

/** One window of a campaign's channel spend (merged or from one layer). */
export interface SpendCell {
  readonly windowStart: number;
  readonly channel: string;
  readonly spend: number;
  readonly invalidSpend: number;
  readonly clicks: number;
}

/** One window of a campaign's attributed revenue in a channel, of model M. */
export interface RevenueCell {
  readonly windowStart: number;
  readonly channel: string;
  readonly revenue: number;
}

/** The windows a campaign's figures at `t` read: those starting in the budget day, and in the trailing window W. */
export interface BiddingRanges {
  /** The budget day holding t: windows with start in [start, end). */
  readonly day: { readonly start: number; readonly end: number };
  /** The trailing window: windows with start in [from, to] (to = t). */
  readonly window: { readonly from: number; readonly to: number };
}

export function biddingRanges(t: number, budget: Budget, settings: BiddingSettings): BiddingRanges {
  return { day: budgetDay(t, budget.timeZone), window: { from: t - settings.windowMs, to: t } };
}

/** A channel's figures and multiplier. */
export interface ChannelBidding {
  readonly channel: string;
  readonly spendTodayMicros: number;
  readonly invalidSpendTodayMicros: number;
  readonly multiplier: number;
  readonly reason: MultiplierReason;
  /** Spend, revenue and valid clicks in W, ROAS, pace and the factors. */
  readonly inputs: MultiplierInputs;
}

/** A campaign's pacing and bid multipliers at `at`. */
export interface CampaignBidding {
  readonly at: number;
  readonly ranges: BiddingRanges;
  /** How much of the budget day has passed, 0..1. */
  readonly elapsed: number;
  readonly spendTodayMicros: number;
  readonly invalidSpendTodayMicros: number;
  readonly pace: number | null;
  readonly status: BudgetStatus;
  /** Every channel with spend today or figures in W, by name. */
  readonly channels: readonly ChannelBidding[];
}

interface ChannelSums {
  spendToday: number;
  invalidToday: number;
  spendW: number;
  clicksW: number;
  revenueW: number;
}

function sumsOf(map: Map<string, ChannelSums>, channel: string): ChannelSums {
  let sums = map.get(channel);
  if (!sums) map.set(channel, (sums = { spendToday: 0, invalidToday: 0, spendW: 0, clicksW: 0, revenueW: 0 }));
  return sums;
}

/**
 * A campaign's figures at instant `t` from its windowed spend and attributed revenue (the same
 * function over the speed views, the batch views or their merge): spend today = the spend of the
 * windows starting in the budget day; pace and status from it; per channel, spend, revenue
 * (model M) and valid clicks of the windows starting in [t - W, t], ROAS and the multiplier.
 */
export function campaignBidding(input: {
  readonly t: number;
  readonly budget: Budget;
  readonly spend: Iterable<SpendCell>;
  readonly revenue: Iterable<RevenueCell>;
  readonly settings: BiddingSettings;
}): CampaignBidding {
  const { t, budget, settings } = input;
  const ranges = biddingRanges(t, budget, settings);
  const inDay = (ws: number) => ws >= ranges.day.start && ws < ranges.day.end;
  const inWindow = (ws: number) => ws >= ranges.window.from && ws <= ranges.window.to;
  const byChannel = new Map<string, ChannelSums>();
  let spendToday = 0;
  let invalidToday = 0;
  for (const c of input.spend) {
    const today = inDay(c.windowStart);
    const recent = inWindow(c.windowStart);
    if (!today && !recent) continue;
    const sums = sumsOf(byChannel, c.channel);
    if (today) {
      sums.spendToday += c.spend;
      sums.invalidToday += c.invalidSpend;
      spendToday += c.spend;
      invalidToday += c.invalidSpend;
    }
    if (recent) {
      sums.spendW += c.spend;
      sums.clicksW += c.clicks;
    }
  }
  for (const r of input.revenue) if (inWindow(r.windowStart)) sumsOf(byChannel, r.channel).revenueW += r.revenue;
  const elapsed = elapsedFraction(t, ranges.day);
  const pace = paceOf(spendToday, budget.dailyBudgetMicros, elapsed);
  const status = budgetStatus(spendToday, budget.dailyBudgetMicros, pace, settings);
  const channels = [...byChannel]
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([channel, s]): ChannelBidding => {
      const m = bidMultiplier({ status, pace, spendMicros: s.spendW, revenue: s.revenueW, clicks: s.clicksW, targetRoas: budget.targetRoas }, settings);
      return { channel, spendTodayMicros: s.spendToday, invalidSpendTodayMicros: s.invalidToday, multiplier: m.multiplier, reason: m.reason, inputs: m.inputs };
    });
  return { at: t, ranges, elapsed, spendTodayMicros: spendToday, invalidSpendTodayMicros: invalidToday, pace, status, channels };
}
