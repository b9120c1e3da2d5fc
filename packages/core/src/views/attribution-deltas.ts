import type { AttributionModel } from '../attribution/attribute-conversion.js';
import type { EventOutcome } from '../processor/event-outcome.js';
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

/** One row per credit of every attributed conversion in `outcomes` (not folded). */
export function attributionRows(outcomes: Iterable<EventOutcome>): AttributionDelta[] {
  const rows: AttributionDelta[] = [];
  for (const o of outcomes) {
    if (!o.attribution) continue;
    for (const [model, credits] of Object.entries(o.attribution.credits) as [AttributionModel, typeof o.attribution.credits.linear][]) {
      for (const c of credits) {
        rows.push({
          windowStart: o.windowStart,
          model,
          campaign_id: c.campaign_id,
          channel: c.channel,
          conversions: c.fraction,
          revenue: c.revenue,
        });
      }
    }
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
