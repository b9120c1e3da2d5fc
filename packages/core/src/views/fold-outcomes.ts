import type { EventCount, EventOutcome, HeatmapIncrement, WindowMetrics } from '../processor/event-outcome.js';
import { foldEventCounts } from './event-counts.js';
import { foldWindowMetrics } from './window-metrics.js';
import { attributionRows, foldAttribution, type AttributionDelta } from './attribution-deltas.js';
import { foldHeatmap } from './heatmap-deltas.js';
import { foldInvalidTraffic, type InvalidTrafficCount } from './invalid-traffic.js';
import { foldPageActivity } from './page-activity-deltas.js';
import type { PageActivityIncrement } from '../heatmap/page-activity.js';
import { foldChannelSpend, type ChannelSpend } from './channel-spend.js';

/** Everything a run of outcomes adds to the windowed views, plus the counters. */
export interface ViewDeltas {
  readonly windowMetrics: WindowMetrics[];
  /** Spend, invalid spend and valid clicks per (window, campaign, channel). */
  readonly spend: ChannelSpend[];
  readonly attribution: AttributionDelta[];
  readonly heatmap: HeatmapIncrement[];
  readonly pageActivity: PageActivityIncrement[];
  readonly invalidTraffic: InvalidTrafficCount[];
  /** Custom events per (window, name, outcome). */
  readonly eventCounts: EventCount[];
  readonly counts: {
    /** Non-duplicate events. */
    readonly events: number;
    readonly duplicates: number;
    /** Late events (speed layer): signals only, kept out of windowed views and attribution. */
    readonly late: number;
    readonly invalid: number;
  };
}

/** Folds outcomes into view deltas; both layers aggregate with this one function. */
export function foldOutcomes(outcomes: readonly EventOutcome[]): ViewDeltas {
  const metrics: WindowMetrics[] = [];
  const spend: ChannelSpend[] = [];
  const heatmap: HeatmapIncrement[] = [];
  const pageActivity: PageActivityIncrement[] = [];
  const eventCounts: EventCount[] = [];
  let duplicates = 0;
  let late = 0;
  let invalid = 0;
  for (const o of outcomes) {
    if (o.windowMetric) metrics.push(o.windowMetric);
    if (o.spend) spend.push(o.spend);
    if (o.heatmap) heatmap.push(o.heatmap);
    if (o.pageActivity) pageActivity.push(o.pageActivity);
    if (o.eventCount) eventCounts.push(o.eventCount);
    if (o.status === 'duplicate') duplicates++;
    else if (o.status === 'invalid') invalid++;
    if (o.late) late++;
  }
  return {
    windowMetrics: foldWindowMetrics(metrics),
    spend: foldChannelSpend(spend),
    attribution: foldAttribution(attributionRows(outcomes)),
    heatmap: foldHeatmap(heatmap),
    pageActivity: foldPageActivity(pageActivity),
    invalidTraffic: foldInvalidTraffic(outcomes),
    eventCounts: foldEventCounts(eventCounts),
    counts: { events: outcomes.length - duplicates, duplicates, late, invalid },
  };
}
