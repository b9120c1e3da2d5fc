import {
  causeCampaign,
  causeName,
  HOUR_MS,
  hourStart,
  eachAttributionCredit,
  invalidTrafficOf,
  orderAttribution,
  orderHeatmap,
  orderPageActivity,
  orderInvalidTraffic,
  orderWindowMetrics,
  orderChannelSpend,
  orderEventCounts,
  windowMetricSums,
  channelSpendSums,
  attributionSums,
  heatmapSums,
  pageActivitySums,
  eventCountSums,
  invalidTrafficSums,
  type AttributionDelta,
  type AttributionModel,
  type Credit,
  type ChannelSpend,
  type EventOutcome,
  type HeatmapIncrement,
  type PageActivityIncrement,
  type InvalidTrafficCount,
  type InvalidReason,
  type EventCount,
  type ViewDeltas,
  type ViewSums,
  type WindowMetrics,
} from '@sigflow/core';
import { field } from '@sigflow/store';

/** An accumulator's sums as plain data ({@link HourViewsAccumulator.snapshot}). */
export interface HourTotals extends Omit<ViewDeltas, 'counts'> {
  readonly counts: [number, { events: number; invalid: number }][];
  readonly quality: [number, [string, number][]][];
  /** The event ids of the invalid impressions and clicks of the hours (`touchpoint-verdicts.ts`). */
  readonly invalidTouchpoints: string[];
  /** Every invalid event of the hours with its reason (`signal-corrections.ts`). */
  readonly invalidEvents: [string, InvalidReason][];
}

/** The recomputed views of one hour. */
export interface HourViews {
  readonly hourStart: number;
  /** Folded with core's folds, exactly what the speed layer writes for the same outcomes. */
  readonly deltas: ViewDeltas;
  /** `${campaignId}\t${cause}` -> count, the speed layer's quality fields (duplicates, invalid:<reason>). */
  readonly quality: Map<string, number>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The Map under `key` in `level`, created when missing. */
function childOf(level: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let next = level.get(key) as Map<unknown, unknown> | undefined;
  if (next === undefined) level.set(key, (next = new Map()));
  return next;
}

/**
 * Running sums of one view under its core definition (`ViewSums`), indexed by a row's identity:
 * its window (as an offset from the pass start) and the view's key parts. The parts are numbered
 * as a combination (nested Maps of the parts' own numbers and dictionary-shared strings, whose
 * hashes V8 keeps; few entries, so they stay in cache), and each window keeps its totals in an
 * array indexed by that number. An add is one short chain of lookups in small structures and
 * one array read, instead of a Map per part over every row of the pass: one pass's adds (one
 * million outcomes) took 863 against 1,247 ms (medians of 7) with the nested Maps of all rows.
 */
class Totals<T extends { readonly windowStart: number }> {
  private readonly combinations = new Map<unknown, unknown>();
  private combinationCount = 0;
  private readonly windows = new Map<number, (Mutable<T> | undefined)[]>();
  private readonly rows: Mutable<T>[] = [];
  private readonly parts: unknown[] = [];
  constructor(
    private readonly sums: ViewSums<T>,
    private readonly from: number,
  ) {}
  add(row: T): void {
    const { parts, sums } = this;
    sums.parts(row, parts);
    let level = childOf(this.combinations, parts[0]);
    if (sums.partCount === 3) level = childOf(level, parts[1]);
    const last = parts[sums.partCount - 1];
    let combination = level.get(last) as number | undefined;
    if (combination === undefined) level.set(last, (combination = this.combinationCount++));
    // Windows are keyed by their offset from the pass start (ms): a small integer for any pass
    // shorter than 12 days, which V8's Maps hash without boxing a double per lookup.
    const window = row.windowStart - this.from;
    let slots = this.windows.get(window);
    if (slots === undefined) this.windows.set(window, (slots = []));
    const t = slots[combination];
    if (t !== undefined) return sums.add(t, row);
    const total = sums.create(row);
    // Filled up to the index first, so the array stays packed (holes make V8 switch to a slower kind).
    while (slots.length < combination) slots.push(undefined);
    slots[combination] = total;
    this.rows.push(total);
  }
  values(): T[] {
    return [...this.rows];
  }
}

/**
 * Collects the outcomes of the events whose ts is in [from, to) into per-hour views: the same
 * rows `foldOutcomes` takes from each outcome (window metric, channel spend, core's `eachAttributionCredit`, heatmap
 * and page activity increments, core's `foldInvalidTraffic`), summed by the folds' keys as they come, then folded
 * once by core (the folds are sums, so this equals `foldOutcomes` over all outcomes, up to the
 * order of float additions in attribution). Memory is bounded by the number of view rows.
 */
export class HourViewsAccumulator {
  // Each outcome's view rows are summed here under core's definitions of the views (key and
  // summed fields); the totals are put in core's canonical order once at the end.
  private readonly windowMetrics: Totals<WindowMetrics>;
  private readonly spend: Totals<ChannelSpend>;
  private readonly attribution: Totals<AttributionDelta>;
  private readonly heatmap: Totals<HeatmapIncrement>;
  private readonly pageActivity: Totals<PageActivityIncrement>;
  private readonly eventCounts: Totals<EventCount>;
  private readonly invalidTraffic: Totals<InvalidTrafficCount>;
  /**
   * A conversion's credits as attribution rows, one row object refilled per credit (`Totals`
   * copies a row only when its key is new): a pass has about as many credits as all its other
   * view rows together (every model credits every touchpoint of the path).
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
  private readonly counts = new Map<number, { events: number; invalid: number }>();
  private readonly quality = new Map<number, Map<string, number>>();
  private readonly invalidTouchpointIds: string[] = [];
  private readonly invalidEventReasons: [string, InvalidReason][] = [];

  /**
   * `duplicates` and `eventsPerHour` come from DuckDB (every event type); `counts.invalid` counts
   * the events that went through the rules.
   */
  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly duplicates: ReadonlyMap<number, ReadonlyMap<string, number>>,
    private readonly eventsPerHour: ReadonlyMap<number, number>,
  ) {
    this.windowMetrics = new Totals(windowMetricSums, from);
    this.spend = new Totals(channelSpendSums, from);
    this.attribution = new Totals(attributionSums, from);
    this.heatmap = new Totals(heatmapSums, from);
    this.pageActivity = new Totals(pageActivitySums, from);
    this.eventCounts = new Totals(eventCountSums, from);
    this.invalidTraffic = new Totals(invalidTrafficSums, from);
  }

  /** Takes one outcome (outcomes of context events, before `from`, are ignored). */
  add(outcome: EventOutcome, event: { type: string; campaign_id?: string }): void {
    if (outcome.ts < this.from || outcome.ts >= this.to || outcome.status === 'duplicate') return;
    const hour = hourStart(outcome.ts);
    let c = this.counts.get(hour);
    if (!c) this.counts.set(hour, (c = { events: 0, invalid: 0 }));
    c.events++;
    if (outcome.status === 'invalid') {
      c.invalid++;
      if (outcome.type === 'impression' || outcome.type === 'click') this.invalidTouchpointIds.push(outcome.event_id);
      this.invalidEventReasons.push([outcome.event_id, outcome.reason as InvalidReason]);
      // Like the speed layer: invalid touchpoints, per campaign and reason.
      if (outcome.windowMetric) this.bump(hour, field(causeCampaign(event), causeName({ kind: 'invalid', reason: outcome.reason as string })), 1);
    }
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

  /** The sums so far as plain data (what a rule thread sends back to be merged). */
  snapshot(): HourTotals {
    return {
      windowMetrics: this.windowMetrics.values(),
      spend: this.spend.values(),
      attribution: this.attribution.values(),
      heatmap: this.heatmap.values(),
      pageActivity: this.pageActivity.values(),
      invalidTraffic: this.invalidTraffic.values(),
      eventCounts: this.eventCounts.values(),
      counts: [...this.counts],
      quality: [...this.quality].map(([h, q]) => [h, [...q]]),
      invalidTouchpoints: this.invalidTouchpointIds,
      invalidEvents: this.invalidEventReasons,
    };
  }

  /** The event ids of the invalid impressions and clicks of the hours, what the hours' touchpoint verdicts record. */
  invalidTouchpoints(): readonly string[] {
    return this.invalidTouchpointIds;
  }

  /** Every invalid event of the hours, by id: the batch layer's verdicts its signal corrections apply. */
  invalidEvents(): Map<string, InvalidReason> {
    return new Map(this.invalidEventReasons);
  }

  /** Adds the sums of another accumulator of the same hours (other users' outcomes). */
  merge(t: HourTotals): void {
    for (const r of t.windowMetrics) this.windowMetrics.add(r);
    for (const r of t.spend) this.spend.add(r);
    for (const r of t.attribution) this.attribution.add(r);
    for (const r of t.heatmap) this.heatmap.add(r);
    for (const r of t.pageActivity) this.pageActivity.add(r);
    for (const r of t.invalidTraffic) this.invalidTraffic.add(r);
    for (const r of t.eventCounts) this.eventCounts.add(r);
    for (const [hour, n] of t.counts) {
      const c = this.counts.get(hour);
      if (c) {
        c.events += n.events;
        c.invalid += n.invalid;
      } else this.counts.set(hour, { ...n });
    }
    for (const [hour, fields] of t.quality) for (const [f, n] of fields) this.bump(hour, f, n);
    for (const id of t.invalidTouchpoints) this.invalidTouchpointIds.push(id);
    for (const e of t.invalidEvents) this.invalidEventReasons.push(e);
  }

  private bump(hour: number, f: string, n: number): void {
    let q = this.quality.get(hour);
    if (!q) this.quality.set(hour, (q = new Map()));
    q.set(f, (q.get(f) ?? 0) + n);
  }

  /** The views of every hour of [from, to), empty hours included (they replace older versions). */
  finish(): HourViews[] {
    const byHour = <T extends { windowStart: number }>(rows: T[]) => {
      const map = new Map<number, T[]>();
      for (const r of rows) {
        const h = hourStart(r.windowStart);
        const list = map.get(h);
        if (list) list.push(r);
        else map.set(h, [r]);
      }
      return map;
    };
    // Each key is summed once here: core's order functions give the folds' canonical order.
    const windowMetrics = byHour(this.windowMetrics.values());
    const spend = byHour(this.spend.values());
    const attribution = byHour(this.attribution.values());
    const heatmap = byHour(this.heatmap.values());
    const pageActivity = byHour(this.pageActivity.values());
    const invalidTraffic = byHour(this.invalidTraffic.values());
    const eventCounts = byHour(this.eventCounts.values());
    const hours: HourViews[] = [];
    for (let h = hourStart(this.from); h < this.to; h += HOUR_MS) {
      const dup = this.duplicates.get(h);
      let duplicates = 0;
      for (const [campaign, n] of dup ?? []) {
        duplicates += n;
        this.bump(h, field(campaign, causeName({ kind: 'duplicates' })), n);
      }
      const c = this.counts.get(h) ?? { events: 0, invalid: 0 };
      hours.push({
        hourStart: h,
        deltas: {
          windowMetrics: orderWindowMetrics(windowMetrics.get(h) ?? []),
          spend: orderChannelSpend(spend.get(h) ?? []),
          attribution: orderAttribution(attribution.get(h) ?? []),
          heatmap: orderHeatmap(heatmap.get(h) ?? []),
          pageActivity: orderPageActivity(pageActivity.get(h) ?? []),
          invalidTraffic: orderInvalidTraffic(invalidTraffic.get(h) ?? []),
          eventCounts: orderEventCounts(eventCounts.get(h) ?? []),
          counts: { events: this.eventsPerHour.get(h) ?? c.events, duplicates, late: 0, invalid: c.invalid },
        },
        quality: this.quality.get(h) ?? new Map(),
      });
    }
    return hours;
  }
}
