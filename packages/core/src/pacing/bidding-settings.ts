import { realTimeModels, type RealTimeModel } from '../attribution/attribute-conversion.js';
import { InvalidRuleSettingsError } from '../errors/invalid-rule-settings-error.js';

/**
 * The parameters of pacing and the bid multiplier (DESIGN.md "Spend and pacing", "Bid
 * multiplier"): configuration, not constants (`@sigflow/config` reads `SIGFLOW_BIDDING_*`).
 */
export interface BiddingSettings {
  /** Trailing window W of the multiplier's ROAS and click count, by event time (default 1 h). */
  readonly windowMs: number;
  /** Attribution model M whose revenue the ROAS uses (default `shapley`). */
  readonly model: RealTimeModel;
  /** Fewer valid clicks than this of a (campaign, channel) in W: multiplier 1, `insufficient_data` (default 20). */
  readonly minClicks: number;
  /** Bounds of the ROAS factor `roas / target_roas` (default 0.25 and 4). */
  readonly roasFactorMin: number;
  readonly roasFactorMax: number;
  /** Bounds of the pace factor `1 / pace` (default 0.5 and 1.5). */
  readonly paceFactorMin: number;
  readonly paceFactorMax: number;
  /** Status `over` above this pace, `under` below `underPace` (default 1.1 and 0.9). */
  readonly overPace: number;
  readonly underPace: number;
  /** `target_roas` of a budget that names none (default 1.0). */
  readonly defaultTargetRoas: number;
}

/** DESIGN.md defaults. */
export const defaultBiddingSettings: BiddingSettings = Object.freeze({
  windowMs: 3_600_000,
  model: 'shapley',
  minClicks: 20,
  roasFactorMin: 0.25,
  roasFactorMax: 4,
  paceFactorMin: 0.5,
  paceFactorMax: 1.5,
  overPace: 1.1,
  underPace: 0.9,
  defaultTargetRoas: 1,
});

/**
 * Checks that the settings can work (W a positive integer, M a real-time model, positive bounds
 * with min <= max, under <= over) and returns them. Throws {@link InvalidRuleSettingsError}
 * naming the first bad field.
 */
export function checkBiddingSettings(s: BiddingSettings): BiddingSettings {
  const fail = (message: string): never => {
    throw new InvalidRuleSettingsError(message);
  };
  if (!Number.isSafeInteger(s.windowMs) || s.windowMs < 1) fail(`windowMs must be an integer >= 1 (got ${s.windowMs})`);
  if (!(realTimeModels as readonly string[]).includes(s.model)) fail(`model must be one of ${realTimeModels.join(', ')} (got ${s.model})`);
  if (!Number.isSafeInteger(s.minClicks) || s.minClicks < 0) fail(`minClicks must be an integer >= 0 (got ${s.minClicks})`);
  const positive = ['roasFactorMin', 'roasFactorMax', 'paceFactorMin', 'paceFactorMax', 'overPace', 'underPace', 'defaultTargetRoas'] as const;
  for (const name of positive) if (!(Number.isFinite(s[name]) && s[name] > 0)) fail(`${name} must be a number > 0 (got ${s[name]})`);
  if (s.roasFactorMin > s.roasFactorMax) fail(`roasFactorMin (${s.roasFactorMin}) must not exceed roasFactorMax (${s.roasFactorMax})`);
  if (s.paceFactorMin > s.paceFactorMax) fail(`paceFactorMin (${s.paceFactorMin}) must not exceed paceFactorMax (${s.paceFactorMax})`);
  if (s.underPace > s.overPace) fail(`underPace (${s.underPace}) must not exceed overPace (${s.overPace})`);
  return s;
}
