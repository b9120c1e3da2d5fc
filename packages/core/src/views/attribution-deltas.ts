import type { AttributionModel } from '../attribution/attribute-conversion.js';
import type { EventOutcome } from '../processor/event-outcome.js';
import type { Credit } from '../attribution/touchpoint.js';
import { sortByKey, sumByKey, type KeyTuple, type Mutable } from './sum-by-key.js';

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
 * order of its credits (the order {@link attributionRows} lists them). A credit becomes the row
 * (outcome's windowStart, model, credit's campaign_id and channel, conversions = fraction,
 * revenue); a caller that sums rows can take them from here without building them.
 */
export function eachAttributionCredit(outcome: EventOutcome, visit: (model: AttributionModel, credit: Credit) => void): void {
  if (!outcome.attribution) return;
  for (const [model, credits] of Object.entries(outcome.attribution.credits) as [AttributionModel, readonly Credit[]][]) {
    for (const credit of credits) visit(model, credit);
  }
}

/** One row per credit of every attributed conversion in `outcomes` (not folded). */
export function attributionRows(outcomes: Iterable<EventOutcome>): AttributionDelta[] {
  const rows: AttributionDelta[] = [];
  for (const o of outcomes) {
    eachAttributionCredit(o, (model, c) =>
      rows.push({ windowStart: o.windowStart, model, campaign_id: c.campaign_id, channel: c.channel, conversions: c.fraction, revenue: c.revenue }),
    );
  }
  return rows;
}

/** The key foldAttribution sums AttributionDelta rows by. */
const attributionKey = (r: AttributionDelta): KeyTuple => [r.windowStart, r.model, r.campaign_id, r.channel];

/** Sums attribution rows per (windowStart, model, campaign_id, channel), sorted by that key. */
export function foldAttribution(rows: Iterable<AttributionDelta>): AttributionDelta[] {
  return sumByKey(
    rows,
    attributionKey,
    (t, r) => {
      const sum = t as Mutable<AttributionDelta>;
      sum.conversions += r.conversions;
      sum.revenue += r.revenue;
      return sum;
    },
  );
}

/** AttributionDelta rows already summed per key (each key once), in foldAttribution's order. */
export function orderAttribution(rows: readonly AttributionDelta[]): AttributionDelta[] {
  return sortByKey(rows, attributionKey);
}
