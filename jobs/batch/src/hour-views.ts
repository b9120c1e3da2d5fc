import {
  attributionRows,
  foldAttribution,
  foldHeatmap,
  foldPageActivity,
  foldInvalidTraffic,
  foldWindowMetrics,
  foldChannelSpend,
  type AttributionDelta,
  type ChannelSpend,
  type EventOutcome,
  type HeatmapIncrement,
  type PageActivityIncrement,
  type InvalidTrafficCount,
  type ViewDeltas,
  type WindowMetrics,
} from '@sigflow/core';
import { field, hourStart } from '@sigflow/store';

/** The recomputed views of one hour. */
export interface HourViews {
  readonly hourStart: number;
  /** Folded with core's folds, exactly what the speed layer writes for the same outcomes. */
  readonly deltas: ViewDeltas;
  /** `${campaignId}\t${cause}` -> count, the speed layer's quality fields (duplicates, invalid:<reason>). */
  readonly quality: Map<string, number>;
}

/**
 * Running sums keyed by a row's identity (the tuple `keyOf` gives): a copy of the first row, later
 * rows added in place. The tuple walks nested Maps (no key string is built per row; the values
 * are the rows' own numbers and strings, whose hashes V8 keeps).
 */
class Totals<T extends object> {
  private readonly root = new Map<unknown, unknown>();
  private readonly rows: T[] = [];
  constructor(
    private readonly keyOf: (row: T) => readonly unknown[],
    private readonly addInto: (total: T, row: T) => void,
  ) {}
  add(row: T): void {
    const key = this.keyOf(row);
    // The tuple's length leads, so a tuple is never a prefix of another.
    let level = this.root;
    for (let i = -1; i < key.length - 1; i++) {
      const part = i < 0 ? key.length : key[i];
      let next = level.get(part) as Map<unknown, unknown> | undefined;
      if (next === undefined) level.set(part, (next = new Map()));
      level = next;
    }
    const last = key[key.length - 1];
    const t = level.get(last) as T | undefined;
    if (t !== undefined) return this.addInto(t, row);
    const copy = { ...row };
    level.set(last, copy);
    this.rows.push(copy);
  }
  addAll(rows: Iterable<T>): void {
    for (const row of rows) this.add(row);
  }
  values(): T[] {
    return [...this.rows];
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const campaignOf = (event: { type: string; campaign_id?: string }) =>
  event.type === 'impression' || event.type === 'click' ? (event.campaign_id as string) : '*';

/**
 * Collects the outcomes of the events whose ts is in [from, to) into per-hour views: the same
 * rows `foldOutcomes` takes from each outcome (window metric, channel spend, core's `attributionRows`, heatmap
 * and page activity increments, core's `foldInvalidTraffic`), summed by the folds' keys as they come, then folded
 * once by core (the folds are sums, so this equals `foldOutcomes` over all outcomes, up to the
 * order of float additions in attribution). Memory is bounded by the number of view rows.
 */
export class HourViewsAccumulator {
  // Each outcome's view rows (as core's folds take them) are summed here by the folds' keys;
  // the totals go through core's folds once at the end for the canonical rows and order.
  private readonly windowMetrics = new Totals<Mutable<WindowMetrics>>(
    (r) => [r.windowStart, r.campaign_id, r.ad_id],
    (t, r) => {
      t.impressions += r.impressions;
      t.clicks += r.clicks;
      t.invalidImpressions += r.invalidImpressions;
      t.invalidClicks += r.invalidClicks;
    },
  );
  private readonly spend = new Totals<Mutable<ChannelSpend>>(
    (r) => [r.windowStart, r.campaign_id, r.channel],
    (t, r) => {
      t.spend += r.spend;
      t.invalidSpend += r.invalidSpend;
      t.clicks += r.clicks;
    },
  );
  private readonly attribution = new Totals<Mutable<AttributionDelta>>(
    (r) => [r.windowStart, r.model, r.campaign_id, r.channel],
    (t, r) => {
      t.conversions += r.conversions;
      t.revenue += r.revenue;
    },
  );
  private readonly heatmap = new Totals<Mutable<HeatmapIncrement>>(
    (r) => [r.page_id, r.windowStart, r.element_id],
    (t, r) => {
      t.clicks += r.clicks;
    },
  );
  private readonly pageActivity = new Totals<Mutable<PageActivityIncrement>>(
    (r) => [r.page_id, r.windowStart, ...r.metric],
    (t, r) => {
      t.count += r.count;
    },
  );
  private readonly invalidTraffic = new Totals<Mutable<InvalidTrafficCount>>(
    (r) => [r.windowStart, r.type, r.reason],
    (t, r) => {
      t.events += r.events;
    },
  );
  private readonly counts = new Map<number, { events: number; invalid: number }>();
  private readonly quality = new Map<number, Map<string, number>>();

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
      // Like the speed layer: invalid touchpoints, per campaign and reason.
      if (outcome.windowMetric) this.bump(hour, field(campaignOf(event), `invalid:${outcome.reason}`), 1);
    }
    if (outcome.windowMetric) this.windowMetrics.add(outcome.windowMetric);
    if (outcome.spend) this.spend.add(outcome.spend);
    if (outcome.attribution) this.attribution.addAll(attributionRows([outcome]));
    if (outcome.heatmap) this.heatmap.add(outcome.heatmap);
    if (outcome.pageActivity) this.pageActivity.add(outcome.pageActivity);
    if (outcome.status === 'invalid') this.invalidTraffic.addAll(foldInvalidTraffic([outcome]));
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
    // Core's folds give the canonical rows and order (each key is already unique here).
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
          windowMetrics: foldWindowMetrics(windowMetrics.get(h) ?? []),
          spend: foldChannelSpend(spend.get(h) ?? []),
          attribution: foldAttribution(attribution.get(h) ?? []),
          heatmap: foldHeatmap(heatmap.get(h) ?? []),
          pageActivity: foldPageActivity(pageActivity.get(h) ?? []),
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
