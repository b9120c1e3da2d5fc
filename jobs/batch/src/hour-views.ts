import {
  causeCampaign,
  causeName,
  HOUR_MS,
  hourStart,
  orderViewRows,
  ViewRowTotals,
  type EventOutcome,
  type InvalidReason,
  type ViewDeltas,
  type ViewRows,
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

/** No rows of any view. */
function emptyRows(): ViewRows {
  return { windowMetrics: [], spend: [], attribution: [], heatmap: [], pageActivity: [], invalidTraffic: [], eventCounts: [] };
}

/** Each hour's share of the rows, by the hour of their window. */
function rowsByHour(rows: ViewRows): Map<number, ViewRows> {
  const hours = new Map<number, ViewRows>();
  for (const view of Object.keys(rows) as (keyof ViewRows)[]) {
    for (const row of rows[view] as { readonly windowStart: number }[]) {
      const h = hourStart(row.windowStart);
      let ofHour = hours.get(h);
      if (!ofHour) hours.set(h, (ofHour = emptyRows()));
      (ofHour[view] as unknown[]).push(row);
    }
  }
  return hours;
}

/**
 * Collects the outcomes of the events whose ts is in [from, to) into per-hour views: their view
 * rows summed as they come by core's accumulator (`ViewRowTotals`, which the speed layer folds a
 * round with), put in core's canonical order once at the end. Memory is bounded by the number of
 * view rows.
 */
export class HourViewsAccumulator {
  private readonly rows = new ViewRowTotals();
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
      this.invalidEventReasons.push([outcome.event_id, outcome.reason as InvalidReason]);
      // Like the speed layer: invalid touchpoints, per campaign and reason.
      if (outcome.windowMetric) this.bump(hour, field(causeCampaign(event), causeName({ kind: 'invalid', reason: outcome.reason as string })), 1);
    }
    this.rows.add(outcome);
  }

  /** The sums so far as plain data (what a rule thread sends back to be merged). */
  snapshot(): HourTotals {
    return {
      ...this.rows.values(),
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
    this.rows.merge(t);
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
    const byHour = rowsByHour(this.rows.values());
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
          ...orderViewRows(byHour.get(h) ?? emptyRows()),
          counts: { events: this.eventsPerHour.get(h) ?? c.events, duplicates, late: 0, invalid: c.invalid },
        },
        quality: this.quality.get(h) ?? new Map(),
      });
    }
    return hours;
  }
}
