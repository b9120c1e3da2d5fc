import type { BiddingSettings } from './bidding-settings.js';
import type { BudgetStatus } from './pace.js';

/** Why a multiplier is what it is. */
export type MultiplierReason = 'exhausted' | 'insufficient_data' | 'roas_and_pace';

/** Everything a multiplier was computed from, carried with it. */
export interface MultiplierInputs {
  /** Spend (micros), attributed revenue (model M, currency units) and valid clicks of the channel in W. */
  readonly spendMicros: number;
  readonly revenue: number;
  readonly clicks: number;
  /** revenue / spend in W (spend in currency units); null without spend. */
  readonly roas: number | null;
  readonly targetRoas: number;
  readonly minClicks: number;
  /** The campaign's pace today; null before anything was to be spent. */
  readonly pace: number | null;
  /** clamp(roas / target_roas) and clamp(1 / pace); null when not applied. */
  readonly roasFactor: number | null;
  readonly paceFactor: number | null;
}

export interface BidMultiplier {
  readonly multiplier: number;
  readonly reason: MultiplierReason;
  readonly inputs: MultiplierInputs;
}

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));

/** Rounded to 0.01, half up, without the float noise of x * 100 (0.285 * 100 = 28.499...). */
export function roundToCents(x: number): number {
  return Math.round(Number((x * 100).toPrecision(12))) / 100;
}

/** What the multiplier of one (campaign, channel) is computed from. */
export interface MultiplierFigures {
  readonly status: BudgetStatus;
  readonly pace: number | null;
  readonly spendMicros: number;
  readonly revenue: number;
  readonly clicks: number;
  readonly targetRoas: number;
}

/**
 * The bid multiplier of a (campaign, channel) (DESIGN.md "Bid multiplier"): 0 when the budget is
 * exhausted; 1 (`insufficient_data`) with fewer than `minClicks` valid clicks in W, or no spend in
 * W (ROAS undefined); else clamp(roas / target_roas, 0.25, 4) x clamp(1 / pace, 0.5, 1.5),
 * rounded to 0.01 (a pace not defined yet counts as 1; a pace of 0 gives the upper bound).
 */
export function bidMultiplier(f: MultiplierFigures, settings: BiddingSettings): BidMultiplier {
  const roas = f.spendMicros > 0 ? f.revenue / (f.spendMicros / 1_000_000) : null;
  const base = { spendMicros: f.spendMicros, revenue: f.revenue, clicks: f.clicks, roas, targetRoas: f.targetRoas, minClicks: settings.minClicks, pace: f.pace };
  if (f.status === 'exhausted') return { multiplier: 0, reason: 'exhausted', inputs: { ...base, roasFactor: null, paceFactor: null } };
  if (f.clicks < settings.minClicks || roas === null) {
    return { multiplier: 1, reason: 'insufficient_data', inputs: { ...base, roasFactor: null, paceFactor: null } };
  }
  const roasFactor = clamp(roas / f.targetRoas, settings.roasFactorMin, settings.roasFactorMax);
  const paceFactor = f.pace === null ? 1 : clamp(1 / f.pace, settings.paceFactorMin, settings.paceFactorMax);
  return { multiplier: roundToCents(roasFactor * paceFactor), reason: 'roas_and_pace', inputs: { ...base, roasFactor, paceFactor } };
}
