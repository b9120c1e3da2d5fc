import type { SigflowEvent } from '@sigflow/events';
import { attributeConversion, type ConversionAttribution } from '../attribution/attribute-conversion.js';
import type { ProcessContext } from './process-context.js';
import type { HeatmapIncrement, WindowMetrics } from './event-outcome.js';

/** What one on-time event adds to the windowed views. */
export interface ViewUpdates {
  readonly windowMetric: WindowMetrics | null;
  readonly attribution: ConversionAttribution | null;
  readonly heatmap: HeatmapIncrement | null;
}

const none: ViewUpdates = Object.freeze({ windowMetric: null, attribution: null, heatmap: null });

/**
 * Step 5 of {@link processEvent}, for events that are not late: the window metric of a
 * touchpoint (valid or invalid, counted apart), the attribution of a valid conversion over the
 * user's path, the heatmap increment of a valid element_click. Late events update nothing here.
 */
export function viewUpdates(ctx: ProcessContext, event: SigflowEvent, windowStart: number, valid: boolean): ViewUpdates {
  switch (event.type) {
    case 'impression':
    case 'click': {
      const isImpression = event.type === 'impression';
      const windowMetric: WindowMetrics = {
        windowStart,
        campaign_id: event.campaign_id,
        ad_id: event.ad_id,
        impressions: valid && isImpression ? 1 : 0,
        clicks: valid && !isImpression ? 1 : 0,
        invalidImpressions: !valid && isImpression ? 1 : 0,
        invalidClicks: !valid && !isImpression ? 1 : 0,
      };
      return { windowMetric, attribution: null, heatmap: null };
    }
    case 'conversion':
      if (!valid) return none;
      return { windowMetric: null, attribution: attributeConversion(ctx.user.path, event, ctx), heatmap: null };
    case 'element_click':
      // The schema requires page_id on element_click; the check only narrows the type.
      if (!valid || event.page_id === undefined) return none;
      return { windowMetric: null, attribution: null, heatmap: { page_id: event.page_id, windowStart, element_id: event.element_id, clicks: 1 } };
    default:
      return none;
  }
}
