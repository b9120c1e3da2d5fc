import type { AttributionModel } from '../attribution/attribute-conversion.js';
import type { EventOutcome } from '../processor/event-outcome.js';
import type { Credit } from '../attribution/touchpoint.js';
import { sortByKey, sumRows, type ViewSums } from './sum-by-key.js';

/**
 * Attributed conversions and revenue per window of the conversion's time, model, and the
 * credited touchpoint's campaign and channel (DESIGN.md "Windows").
 */
export interface AttributionDelta {
  readonly windowStart: number;
  readonly model: AttributionModel;
  readonly campaign_id: string;
  readonly channel: string;
  /** Sum of credit fractions: attributed conversions. */
  readonly conversions: number;
  readonly revenue: number;
}

/**
 * Calls `visit` with each credit of an attributed conversion's outcome, model by model in the
 * order of its credits. A credit becomes the row (outcome's windowStart, model, credit's
 * campaign_id and channel, conversions = fraction, revenue); a caller that sums rows can take
 * them from here without building them.
 */
export function eachAttributionCredit(outcome: EventOutcome, visit: (model: AttributionModel, credit: Credit) => void): void {
  if (!outcome.attribution) return;
  for (const [model, credits] of Object.entries(outcome.attribution.credits) as [AttributionModel, readonly Credit[]][]) {
    for (const credit of credits) visit(model, credit);
  }
}

/** Attributed conversions per (windowStart, model, campaign_id, channel). */
export const attributionSums: ViewSums<AttributionDelta> = {
  key: (r) => [r.windowStart, r.model, r.campaign_id, r.channel],
  parts: (r, into) => {
    into[0] = r.model;
    into[1] = r.campaign_id;
    into[2] = r.channel;
  },
  partCount: 3,
  create: (r) => ({ windowStart: r.windowStart, model: r.model, campaign_id: r.campaign_id, channel: r.channel, conversions: r.conversions, revenue: r.revenue }),
  add: (t, r) => {
    t.conversions += r.conversions;
    t.revenue += r.revenue;
  },
};

/** Sums attribution rows per (windowStart, model, campaign_id, channel), sorted by that key. */
export function foldAttribution(rows: Iterable<AttributionDelta>): AttributionDelta[] {
  return sumRows(attributionSums, rows);
}

/** AttributionDelta rows already summed per key (each key once), in foldAttribution's order. */
export function orderAttribution(rows: readonly AttributionDelta[]): AttributionDelta[] {
  return sortByKey(rows, attributionSums.key);
}
