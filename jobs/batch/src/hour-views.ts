import {
  eachAttributionCredit,
  orderAttribution,
  orderHeatmap,
  orderPageActivity,
  foldInvalidTraffic,
  orderWindowMetrics,
  orderChannelSpend,
  type AttributionDelta,
  type AttributionModel,
  type Credit,
  type ChannelSpend,
  type EventOutcome,
  type HeatmapIncrement,
  type PageActivityIncrement,
  type PageActivityMetric,
  type InvalidTrafficCount,
  type ViewDeltas,
  type WindowMetrics,
} from '@sigflow/core';
import { field, hourStart } from '@sigflow/store';

/** An accumulator's sums as plain data ({@link HourViewsAccumulator.snapshot}). */
export interface HourTotals extends Omit<ViewDeltas, 'counts'> {
  readonly counts: [number, { events: number; invalid: number }][];
  readonly quality: [number, [string, number][]][];
  /** The event ids of the invalid impressions and clicks of the hours (`touchpoint-verdicts.ts`). */
  readonly invalidTouchpoints: string[];
}

/** The recomputed views of one hour. */
export interface HourViews {
  readonly hourStart: number;
  /** Folded with core's folds, exactly what the speed layer writes for the same outcomes. */
  readonly deltas: ViewDeltas;
  /** `${campaignId}\t${cause}` -> count, the speed layer's quality fields (duplicates, invalid:<reason>). */
  readonly quality: Map<string, number>;
}

/** The Map under `key` in `level`, created when missing. */
function childOf(level: Map<unknown, unknown>, key: unknown): Map<unknown, unknown> {
  let next = level.get(key) as Map<unknown, unknown> | undefined;
  if (next === undefined) level.set(key, (next = new Map()));
  return next;
}

/**
 * Running sums keyed by a row's identity: its window (as an offset from the pass start) and two
 * or three more parts (`parts` counts them all; one Totals always gets tuples of one shape): a
 * copy of the first row, later rows added in place. The parts after the window are numbered as
 * a combination (nested Maps of the parts' own numbers and dictionary-shared strings, whose
 * hashes V8 keeps; few entries, so they stay in cache), and each window keeps its rows in an
 * array indexed by that number. An add is one short chain of lookups in small structures and
 * one array read, instead of a Map per part over every row of the pass: one pass's adds (one
 * million outcomes) took 863 against 1,247 ms (medians of 7) with the nested Maps of all rows.
 */
class Totals<T extends object> {
  private readonly combinations = new Map<unknown, unknown>();
  private combinationCount = 0;
  private readonly windows = new Map<number, (T | undefined)[]>();
  private readonly rows: T[] = [];
  constructor(
    private readonly parts: 3 | 4,
    private readonly copy: (row: T) => T,
    private readonly addInto: (total: T, row: T) => void,
  ) {}
  add(row: T, window: number, b: unknown, c: unknown, d?: unknown): void {
    let level = childOf(this.combinations, b);
    let key = c;
    if (this.parts === 4) {
      level = childOf(level, c);
      key = d;
    }
    let combination = level.get(key) as number | undefined;
    if (combination === undefined) level.set(key, (combination = this.combinationCount++));
    let slots = this.windows.get(window);
    if (slots === undefined) this.windows.set(window, (slots = []));
    const t = slots[combination];
    if (t !== undefined) return this.addInto(t, row);
    const copy = this.copy(row);
    // Filled up to the index first, so the array stays packed (holes make V8 switch to a slower kind).
    while (slots.length < combination) slots.push(undefined);
    slots[combination] = copy;
    this.rows.push(copy);
  }
  values(): T[] {
    return [...this.rows];
  }
}

/**
 * The parts of a page activity metric after its kind, as one Map key: none (view), the scroll
 * milestone, `form_id NUL action`, or the mouse cell packed into one number (cells are small
 * non-negative integers; others fall back to `cx NUL cy`, a string, never equal to a number).
 */
function metricDetail(metric: PageActivityMetric): unknown {
  switch (metric[0]) {
    case 'view':
      return undefined;
    case 'scroll':
      return metric[1];
    case 'form':
      return `${metric[1]}\u0000${metric[2]}`;
    case 'mouse': {
      // Packed below 2^28: a small integer (V8 hashes it without allocating, unlike a double).
      const [, cx, cy] = metric;
      const small = (n: number) => Number.isInteger(n) && n >= 0 && n < 2 ** 14;
      return small(cx) && small(cy) ? cx * 2 ** 14 + cy : `${cx}\u0000${cy}`;
    }
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const campaignOf = (event: { type: string; campaign_id?: string }) =>
  event.type === 'impression' || event.type === 'click' ? (event.campaign_id as string) : '*';

/**
 * Collects the outcomes of the events whose ts is in [from, to) into per-hour views: the same
 * rows `foldOutcomes` takes from each outcome (window metric, channel spend, core's `eachAttributionCredit`, heatmap
 * and page activity increments, core's `foldInvalidTraffic`), summed by the folds' keys as they come, then folded
 * once by core (the folds are sums, so this equals `foldOutcomes` over all outcomes, up to the
 * order of float additions in attribution). Memory is bounded by the number of view rows.
 */
export class HourViewsAccumulator {
  // Each outcome's view rows (as core's folds take them) are summed here by the folds' keys;
  // the totals go through core's folds once at the end for the canonical rows and order.
  private readonly windowMetrics = new Totals<Mutable<WindowMetrics>>(
    3,
    (r) => ({ windowStart: r.windowStart, campaign_id: r.campaign_id, ad_id: r.ad_id, impressions: r.impressions, clicks: r.clicks, invalidImpressions: r.invalidImpressions, invalidClicks: r.invalidClicks }),
    (t, r) => {
      t.impressions += r.impressions;
      t.clicks += r.clicks;
      t.invalidImpressions += r.invalidImpressions;
      t.invalidClicks += r.invalidClicks;
    },
  );
  private readonly spend = new Totals<Mutable<ChannelSpend>>(
    3,
    (r) => ({ windowStart: r.windowStart, campaign_id: r.campaign_id, channel: r.channel, spend: r.spend, invalidSpend: r.invalidSpend, clicks: r.clicks }),
    (t, r) => {
      t.spend += r.spend;
      t.invalidSpend += r.invalidSpend;
      t.clicks += r.clicks;
    },
  );
  private readonly attribution = new Totals<Mutable<AttributionDelta>>(
    4,
    (r) => ({ windowStart: r.windowStart, model: r.model, campaign_id: r.campaign_id, channel: r.channel, conversions: r.conversions, revenue: r.revenue }),
    (t, r) => {
      t.conversions += r.conversions;
      t.revenue += r.revenue;
    },
  );
  private readonly heatmap = new Totals<Mutable<HeatmapIncrement>>(
    3,
    (r) => ({ ...r }),
    (t, r) => {
      t.clicks += r.clicks;
    },
  );
  private readonly pageActivity = new Totals<Mutable<PageActivityIncrement>>(
    4,
    (r) => ({ page_id: r.page_id, windowStart: r.windowStart, metric: r.metric, count: r.count }),
    (t, r) => {
      t.count += r.count;
    },
  );
  private readonly invalidTraffic = new Totals<Mutable<InvalidTrafficCount>>(
    3,
    (r) => ({ ...r }),
    (t, r) => {
      t.events += r.events;
    },
  );
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
    this.addAttribution(r);
  };
  private readonly counts = new Map<number, { events: number; invalid: number }>();
  private readonly quality = new Map<number, Map<string, number>>();
  private readonly invalidTouchpointIds: string[] = [];

  /**
   * `duplicates` and `eventsPerHour` come from DuckDB (every event type); `counts.invalid` counts
   * the events that went through the rules.
   */
  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly duplicates: ReadonlyMap<number, ReadonlyMap<string, number>>,
    private readonly eventsPerHour: ReadonlyMap<number, number>,
  ) {}

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
      // Like the speed layer: invalid touchpoints, per campaign and reason.
      if (outcome.windowMetric) this.bump(hour, field(campaignOf(event), `invalid:${outcome.reason}`), 1);
    }
    const { windowMetric: w, spend: s, heatmap: h, pageActivity: p } = outcome;
    if (w) this.addWindowMetric(w);
    if (s) this.addSpend(s);
    if (outcome.attribution) {
      this.credit.windowStart = outcome.windowStart;
      eachAttributionCredit(outcome, this.addCredit);
    }
    if (h) this.addHeatmap(h);
    if (p) this.addPageActivity(p);
    if (outcome.status === 'invalid') for (const r of foldInvalidTraffic([outcome])) this.addInvalidTraffic(r);
  }

  // Windows are keyed by their offset from `from` (ms): a small integer for any pass shorter
  // than 12 days, which V8's Maps hash without boxing a double per lookup.
  private addWindowMetric(w: WindowMetrics): void {
    this.windowMetrics.add(w, w.windowStart - this.from, w.campaign_id, w.ad_id);
  }
  private addSpend(s: ChannelSpend): void {
    this.spend.add(s, s.windowStart - this.from, s.campaign_id, s.channel);
  }
  private addAttribution(r: AttributionDelta): void {
    this.attribution.add(r, r.windowStart - this.from, r.model, r.campaign_id, r.channel);
  }
  private addHeatmap(h: HeatmapIncrement): void {
    this.heatmap.add(h, h.windowStart - this.from, h.page_id, h.element_id);
  }
  private addPageActivity(p: PageActivityIncrement): void {
    this.pageActivity.add(p, p.windowStart - this.from, p.page_id, p.metric[0], metricDetail(p.metric));
  }
  private addInvalidTraffic(r: InvalidTrafficCount): void {
    this.invalidTraffic.add(r, r.windowStart - this.from, r.type, r.reason);
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
      counts: [...this.counts],
      quality: [...this.quality].map(([h, q]) => [h, [...q]]),
      invalidTouchpoints: this.invalidTouchpointIds,
    };
  }

  /** The event ids of the invalid impressions and clicks of the hours, what the hours' touchpoint verdicts record. */
  invalidTouchpoints(): readonly string[] {
    return this.invalidTouchpointIds;
  }

  /** Adds the sums of another accumulator of the same hours (other users' outcomes). */
  merge(t: HourTotals): void {
    for (const r of t.windowMetrics) this.addWindowMetric(r);
    for (const r of t.spend) this.addSpend(r);
    for (const r of t.attribution) this.addAttribution(r);
    for (const r of t.heatmap) this.addHeatmap(r);
    for (const r of t.pageActivity) this.addPageActivity(r);
    for (const r of t.invalidTraffic) this.addInvalidTraffic(r);
    for (const [hour, n] of t.counts) {
      const c = this.counts.get(hour);
      if (c) {
        c.events += n.events;
        c.invalid += n.invalid;
      } else this.counts.set(hour, { ...n });
    }
    for (const [hour, fields] of t.quality) for (const [f, n] of fields) this.bump(hour, f, n);
    for (const id of t.invalidTouchpoints) this.invalidTouchpointIds.push(id);
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
    const hours: HourViews[] = [];
    for (let h = hourStart(this.from); h < this.to; h += 3_600_000) {
      const dup = this.duplicates.get(h);
      let duplicates = 0;
      for (const [campaign, n] of dup ?? []) {
        duplicates += n;
        this.bump(h, field(campaign, 'duplicates'), n);
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
          invalidTraffic: sortInvalidTraffic(invalidTraffic.get(h) ?? []),
          counts: { events: this.eventsPerHour.get(h) ?? c.events, duplicates, late: 0, invalid: c.invalid },
        },
        quality: this.quality.get(h) ?? new Map(),
      });
    }
    return hours;
  }
}

/** Core's order of invalid-traffic rows: (windowStart, type, reason). */
function sortInvalidTraffic(rows: InvalidTrafficCount[]): InvalidTrafficCount[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => a.windowStart - b.windowStart || cmp(a.type, b.type) || cmp(a.reason, b.reason));
}
