import type { AlertMetric, AlertRule } from './alert-rule.js';

/** What the metrics of one campaign add up to over some windows (sums of the speed views). */
export interface AlertCounts {
  /** Valid impressions and clicks (CTR). */
  readonly impressions: number;
  readonly clicks: number;
  /** Invalid impressions and clicks (any reason). */
  readonly invalidImpressions: number;
  readonly invalidClicks: number;
  /** Conversions credited to the campaign by the rule's model. */
  readonly conversions: number;
  /** spend_pace: the pace at the end of each window summed, and how many windows had one. */
  readonly paceSum: number;
  readonly paceWindows: number;
  /** How many windows these counts sum. */
  readonly windows: number;
}

/** Nothing counted. */
export const noAlertCounts: AlertCounts = Object.freeze({ impressions: 0, clicks: 0, invalidImpressions: 0, invalidClicks: 0, conversions: 0, paceSum: 0, paceWindows: 0, windows: 0 });

/** Adds two count sets. */
export function addAlertCounts(a: AlertCounts, b: AlertCounts): AlertCounts {
  return {
    impressions: a.impressions + b.impressions,
    clicks: a.clicks + b.clicks,
    invalidImpressions: a.invalidImpressions + b.invalidImpressions,
    invalidClicks: a.invalidClicks + b.invalidClicks,
    conversions: a.conversions + b.conversions,
    paceSum: a.paceSum + b.paceSum,
    paceWindows: a.paceWindows + b.paceWindows,
    windows: a.windows + b.windows,
  };
}

/**
 * A metric over some windows (DESIGN.md "Alerts"), null where it is not defined:
 * - `ctr`: valid clicks / valid impressions (none: null);
 * - `invalid_share`: invalid touchpoints / all touchpoints (none: null);
 * - `conversions`: credited conversions per window (a window: its count; the trailing hour: the mean);
 * - `spend_pace`: the pace at a window's end (`spend_today / (budget x elapsed fraction)`), averaged
 *   over the windows that had one (no budget: null).
 */
export function alertMetricValue(metric: AlertMetric, c: AlertCounts): number | null {
  switch (metric) {
    case 'ctr':
      return c.impressions > 0 ? c.clicks / c.impressions : null;
    case 'invalid_share': {
      const all = c.impressions + c.clicks + c.invalidImpressions + c.invalidClicks;
      return all > 0 ? (c.invalidImpressions + c.invalidClicks) / all : null;
    }
    case 'conversions':
      return c.windows > 0 ? c.conversions / c.windows : null;
    case 'spend_pace':
      return c.paceWindows > 0 ? c.paceSum / c.paceWindows : null;
  }
}

/**
 * Whether a window meets the rule's condition: `value op threshold`, or for `drop_pct` a drop of
 * at least `threshold` % from the trailing hour's value (`(trailing - value) / trailing x 100 >=
 * threshold`, boundaries included). Null when it cannot be told (no value, or no positive
 * trailing value to drop from): such a window neither counts toward `for` nor resolves.
 */
export function alertConditionHolds(rule: AlertRule, value: number | null, trailing: number | null): boolean | null {
  if (value === null) return null;
  const { op, threshold } = rule.condition;
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case 'drop_pct':
      if (trailing === null || trailing <= 0) return null;
      return ((trailing - value) / trailing) * 100 >= threshold;
  }
}
