import type { EventOutcome, HeatmapIncrement, WindowMetrics } from '../processor/event-outcome.js';
import { foldWindowMetrics } from './window-metrics.js';
import { attributionRows, foldAttribution, type AttributionDelta } from './attribution-deltas.js';
import { foldHeatmap } from './heatmap-deltas.js';
import { foldInvalidTraffic, type InvalidTrafficCount } from './invalid-traffic.js';

/** Everything a run of outcomes adds to the windowed views, plus the counters. */
export interface ViewDeltas {
  readonly windowMetrics: WindowMetrics[];
  readonly attribution: AttributionDelta[];
  readonly heatmap: HeatmapIncrement[];
  readonly invalidTraffic: InvalidTrafficCount[];
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
  const nonNull = <T>(x: T | null): x is T => x !== null;
  return {
    windowMetrics: foldWindowMetrics(outcomes.map((o) => o.windowMetric).filter(nonNull)),
    attribution: foldAttribution(attributionRows(outcomes)),
    heatmap: foldHeatmap(outcomes.map((o) => o.heatmap).filter(nonNull)),
    invalidTraffic: foldInvalidTraffic(outcomes),
    counts: {
      events: outcomes.filter((o) => o.status !== 'duplicate').length,
      duplicates: outcomes.filter((o) => o.status === 'duplicate').length,
      late: outcomes.filter((o) => o.late).length,
      invalid: outcomes.filter((o) => o.status === 'invalid').length,
    },
  };
}
