import type { RuleSettings } from '../rule-settings.js';
import { compareEventKeys, type EventKey } from '../ordering/event-order.js';
import { creditsOf, directCredits, type Credit, type Touchpoint } from './touchpoint.js';
import { lastTouchFractions } from './models/last-touch.js';
import { firstTouchFractions } from './models/first-touch.js';
import { linearFractions } from './models/linear.js';
import { timeDecayFractions } from './models/time-decay.js';
import { positionBasedFractions } from './models/position-based.js';
import { shapleyFractions, type ShapleyFallback } from './shapley.js';
import type { ShapleyTable } from './shapley-table.js';
import { markovFractions, type MarkovModel } from './markov.js';

/** The models both layers compute for every conversion. */
export const realTimeModels = ['last_touch', 'first_touch', 'linear', 'time_decay', 'position_based', 'shapley'] as const;
/** One of {@link realTimeModels}. */
export type RealTimeModel = (typeof realTimeModels)[number];
/** Every model; `markov` is computed by the batch layer only (it needs a chain trained on the period). */
export type AttributionModel = RealTimeModel | 'markov';

/** Credits per model for one conversion. `markov` is present only when a Markov model was given. */
export type ModelCredits = { readonly [M in RealTimeModel]: readonly Credit[] } & { readonly markov?: readonly Credit[] };

/** The attribution of one conversion. */
export interface ConversionAttribution {
  /** The conversion's value (0 when it has none); revenue credits sum to it. */
  readonly value: number;
  /** Touchpoints in the path (0 = credited to `direct`). */
  readonly pathLength: number;
  readonly credits: ModelCredits;
  /** Version of the Shapley table applied; null when none was published. */
  readonly shapleyVersion: string | null;
  /** Set when Shapley fell back to the equal split over channels (see {@link ShapleyFallback}). */
  readonly shapleyFallback: ShapleyFallback | null;
}

/** Inputs besides the touchpoints. */
export interface AttributionOptions {
  readonly settings: RuleSettings;
  /** The latest published table; absent = fallback `no_table` (equal split over channels). */
  readonly shapley?: ShapleyTable | null | undefined;
  /** Batch layer only: a trained chain adds the `markov` model. */
  readonly markov?: MarkovModel | null | undefined;
}

/**
 * The path of a conversion at t: the valid touchpoints with ts in [t - lookback, t] that come
 * before the conversion in (ts, event_id) order (a touchpoint with the conversion's ts and a
 * larger event_id comes after it, as in the sorted stream), ordered by (ts, event_id).
 */
export function attributionPath(touchpoints: readonly Touchpoint[], conversion: EventKey, settings: RuleSettings): Touchpoint[] {
  const from = conversion.ts - settings.attributionLookbackMs;
  return touchpoints.filter((tp) => tp.ts >= from && compareEventKeys(tp, conversion) < 0).sort(compareEventKeys);
}

/**
 * Attributes one valid conversion over the user's valid touchpoints (any order; the path is
 * selected with {@link attributionPath}). Every model's fractions sum to 1; revenue = fraction x
 * value (value defaults to 0). An empty path gives one credit of 1 to `direct` / `none` in
 * every model.
 */
export function attributeConversion(
  touchpoints: readonly Touchpoint[],
  conversion: EventKey & { readonly value?: number | undefined },
  options: AttributionOptions,
): ConversionAttribution {
  const value = conversion.value ?? 0;
  const path = attributionPath(touchpoints, conversion, options.settings);
  const shapleyVersion = options.shapley?.version ?? null;
  if (path.length === 0) {
    const direct = directCredits(value);
    const credits: ModelCredits = {
      last_touch: direct,
      first_touch: direct,
      linear: direct,
      time_decay: direct,
      position_based: direct,
      shapley: direct,
      ...(options.markov ? { markov: direct } : {}),
    };
    return { value, pathLength: 0, credits, shapleyVersion, shapleyFallback: options.shapley ? null : 'no_table' };
  }
  const shapley = shapleyFractions(path, options.shapley);
  const credits: ModelCredits = {
    last_touch: creditsOf(path, lastTouchFractions(path), value),
    first_touch: creditsOf(path, firstTouchFractions(path), value),
    linear: creditsOf(path, linearFractions(path), value),
    time_decay: creditsOf(path, timeDecayFractions(path, conversion.ts, options.settings.timeDecayHalfLifeMs), value),
    position_based: creditsOf(path, positionBasedFractions(path), value),
    shapley: creditsOf(path, shapley.fractions, value),
    ...(options.markov ? { markov: creditsOf(path, markovFractions(path, options.markov), value) } : {}),
  };
  return { value, pathLength: path.length, credits, shapleyVersion, shapleyFallback: shapley.fallback };
}
