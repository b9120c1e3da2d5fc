import type { EventCount, EventOutcome, HeatmapIncrement, WindowMetrics } from '../processor/event-outcome.js';
import type { Credit } from '../attribution/touchpoint.js';
import type { AttributionModel } from '../attribution/attribute-conversion.js';
import { eventCountSums, orderEventCounts } from './event-counts.js';
import { orderWindowMetrics, windowMetricSums } from './window-metrics.js';
import { attributionSums, eachAttributionCredit, orderAttribution, type AttributionDelta } from './attribution-deltas.js';
import { heatmapSums, orderHeatmap } from './heatmap-deltas.js';
import { invalidTrafficOf, invalidTrafficSums, orderInvalidTraffic, type InvalidTrafficCount } from './invalid-traffic.js';
import { orderPageActivity, pageActivitySums } from './page-activity-deltas.js';
import type { PageActivityIncrement } from '../heatmap/page-activity.js';
import { channelSpendSums, orderChannelSpend, type ChannelSpend } from './channel-spend.js';
import type { Mutable } from './sum-by-key.js';
import { ViewTotals } from './view-totals.js';

/** The windowed views' rows of a run of outcomes, each key summed once. */
export interface ViewRows {
  readonly windowMetrics: WindowMetrics[];
  /** Spend, invalid spend and valid clicks per (window, campaign, channel). */
  readonly spend: ChannelSpend[];
  readonly attribution: AttributionDelta[];
  readonly heatmap: HeatmapIncrement[];
  readonly pageActivity: PageActivityIncrement[];
  readonly invalidTraffic: InvalidTrafficCount[];
  /** Custom events per (window, name, outcome). */
  readonly eventCounts: EventCount[];
}

/** Everything a run of outcomes adds to the windowed views, plus the counters. */
export interface ViewDeltas extends ViewRows {
  readonly counts: {
    /** Non-duplicate events. */
    readonly events: number;
    readonly duplicates: number;
    /** Late events (speed layer): signals only, kept out of windowed views and attribution. */
    readonly late: number;
    readonly invalid: number;
  };
}

/** Rows of every view, each put in the order both layers write (the folds' canonical order). */
export function orderViewRows(rows: ViewRows): ViewRows {
  return {
    windowMetrics: orderWindowMetrics(rows.windowMetrics),
    spend: orderChannelSpend(rows.spend),
    attribution: orderAttribution(rows.attribution),
    heatmap: orderHeatmap(rows.heatmap),
    pageActivity: orderPageActivity(rows.pageActivity),
    invalidTraffic: orderInvalidTraffic(rows.invalidTraffic),
    eventCounts: orderEventCounts(rows.eventCounts),
  };
}

/**
 * The view rows of outcomes summed as they come, under each view's core definition (a Beam
 * accumulator: add an outcome, merge another's values, extract): the speed layer keeps one per
 * partition and round, the batch layer one per pass and rule thread. An outcome is garbage once
 * added, so a round does not keep its outcomes until its commit is built.
 */
export class ViewRowTotals {
  private readonly windowMetrics = new ViewTotals(windowMetricSums);
  private readonly spend = new ViewTotals(channelSpendSums);
  private readonly attribution = new ViewTotals(attributionSums);
  private readonly heatmap = new ViewTotals(heatmapSums);
  private readonly pageActivity = new ViewTotals(pageActivitySums);
  private readonly eventCounts = new ViewTotals(eventCountSums);
  private readonly invalidTraffic = new ViewTotals(invalidTrafficSums);
  /**
   * A conversion's credits as attribution rows, one row object refilled per credit (a total
   * copies a row only when its key is new): every model credits every touchpoint of the path.
   */
  private readonly credit: Mutable<AttributionDelta> = { windowStart: 0, model: 'linear', campaign_id: '', channel: '', conversions: 0, revenue: 0 };
  private readonly addCredit = (model: AttributionModel, c: Credit): void => {
    const r = this.credit;
    r.model = model;
    r.campaign_id = c.campaign_id;
    r.channel = c.channel;
    r.conversions = c.fraction;
    r.revenue = c.revenue;
    this.attribution.add(r);
  };

  /** Adds every view row the outcome carries. */
  add(outcome: EventOutcome): void {
    const { windowMetric: w, spend: s, heatmap: h, pageActivity: p, eventCount: e } = outcome;
    if (w) this.windowMetrics.add(w);
    if (s) this.spend.add(s);
    if (outcome.attribution) {
      this.credit.windowStart = outcome.windowStart;
      eachAttributionCredit(outcome, this.addCredit);
    }
    if (h) this.heatmap.add(h);
    if (p) this.pageActivity.add(p);
    if (e) this.eventCounts.add(e);
    const invalid = invalidTrafficOf(outcome);
    if (invalid) this.invalidTraffic.add(invalid);
  }

  /** Adds another accumulator's totals (other outcomes of the same views). */
  merge(rows: ViewRows): void {
    for (const r of rows.windowMetrics) this.windowMetrics.add(r);
    for (const r of rows.spend) this.spend.add(r);
    for (const r of rows.attribution) this.attribution.add(r);
    for (const r of rows.heatmap) this.heatmap.add(r);
    for (const r of rows.pageActivity) this.pageActivity.add(r);
    for (const r of rows.invalidTraffic) this.invalidTraffic.add(r);
    for (const r of rows.eventCounts) this.eventCounts.add(r);
  }

  /** The totals so far, in the order their keys first came (plain data: what a rule thread sends back). */
  values(): ViewRows {
    return {
      windowMetrics: this.windowMetrics.values(),
      spend: this.spend.values(),
      attribution: this.attribution.values(),
      heatmap: this.heatmap.values(),
      pageActivity: this.pageActivity.values(),
      invalidTraffic: this.invalidTraffic.values(),
      eventCounts: this.eventCounts.values(),
    };
  }
}

/** Outcomes folded as they come into view deltas: {@link foldOutcomes} one outcome at a time. */
export class OutcomeFold {
  private readonly rows = new ViewRowTotals();
  private readonly counted = { outcomes: 0, duplicates: 0, invalid: 0, late: 0 };

  /** The outcomes added (duplicates included), and the duplicate, invalid and late ones among them. */
  get counts(): Readonly<{ outcomes: number; duplicates: number; invalid: number; late: number }> {
    return this.counted;
  }

  add(outcome: EventOutcome): void {
    const c = this.counted;
    c.outcomes++;
    if (outcome.status === 'duplicate') c.duplicates++;
    else if (outcome.status === 'invalid') c.invalid++;
    if (outcome.late) c.late++;
    this.rows.add(outcome);
  }

  deltas(): ViewDeltas {
    const { outcomes, duplicates, late, invalid } = this.counted;
    return { ...orderViewRows(this.rows.values()), counts: { events: outcomes - duplicates, duplicates, late, invalid } };
  }
}

/** Folds outcomes into view deltas; both layers aggregate with this one definition. */
export function foldOutcomes(outcomes: Iterable<EventOutcome>): ViewDeltas {
  const fold = new OutcomeFold();
  for (const o of outcomes) fold.add(o);
  return fold.deltas();
}
