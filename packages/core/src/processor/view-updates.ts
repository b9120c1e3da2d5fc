import type { SigflowEvent, TouchpointEvent } from '@sigflow/events';
import { attributeConversion, type ConversionAttribution } from '../attribution/attribute-conversion.js';
import type { ProcessContext } from './process-context.js';
import type { InvalidReason } from '../validity/invalid-reason.js';
import type { EventCount, HeatmapIncrement, WindowMetrics } from './event-outcome.js';
import { mouseCell, scrollMilestone, type PageActivityIncrement, type PageActivityMetric } from '../heatmap/page-activity.js';
import type { ChannelSpend } from '../views/channel-spend.js';
import { causeName } from '../views/reconciliation-causes.js';

/** What one on-time event adds to the windowed views. */
export interface ViewUpdates {
  readonly windowMetric: WindowMetrics | null;
  readonly spend: ChannelSpend | null;
  readonly attribution: ConversionAttribution | null;
  readonly heatmap: HeatmapIncrement | null;
  readonly pageActivity: PageActivityIncrement | null;
  readonly eventCount: EventCount | null;
}

const none: ViewUpdates = Object.freeze({ windowMetric: null, spend: null, attribution: null, heatmap: null, pageActivity: null, eventCount: null });

/** Valid page events other than element clicks: the page activity view (page views, scroll reach, form funnels, mouse grid). */
function activity(page_id: string | undefined, windowStart: number, metric: PageActivityMetric | null): ViewUpdates {
  if (page_id === undefined || metric === null) return none;
  return { windowMetric: null, spend: null, attribution: null, heatmap: null, pageActivity: { page_id, windowStart, metric, count: 1 }, eventCount: null };
}

function pageActivityOf(ctx: ProcessContext, event: SigflowEvent, windowStart: number): ViewUpdates {
  switch (event.type) {
    case 'page_view':
      return activity(event.page_id, windowStart, ['view']);
    case 'scroll': {
      const m = scrollMilestone(event.depth);
      return activity(event.page_id, windowStart, m === null ? null : ['scroll', m]);
    }
    case 'form_interaction':
      return activity(event.page_id, windowStart, ['form', event.form_id, event.action]);
    case 'mouse_move': {
      const [cx, cy] = mouseCell(event.x, event.y, ctx.settings.mouseGridPx);
      return activity(event.page_id, windowStart, ['mouse', cx, cy]);
    }
    default:
      return none;
  }
}

/**
 * A touchpoint's channel spend increment: its cost (valid or invalid apart) and whether it is a
 * valid click. Null when it adds nothing (no cost, not a valid click): no object for those.
 */
function spendOf(event: TouchpointEvent, windowStart: number, valid: boolean): ChannelSpend | null {
  const cost = event.cost ?? 0;
  const clicks = valid && event.type === 'click' ? 1 : 0;
  if (cost === 0 && clicks === 0) return null;
  return { windowStart, campaign_id: event.campaign_id, channel: event.channel, spend: valid ? cost : 0, invalidSpend: valid ? 0 : cost, clicks };
}

/**
 * Step 5 of {@link processEvent}, for events that are not late: the window metric of a
 * touchpoint (valid or invalid, counted apart), the attribution of a valid conversion over the
 * user's path, the heatmap increment of a valid element_click, the page activity increment of a
 * valid page view, scroll, form interaction or mouse move, the count of a custom event by its
 * name and outcome (valid or the invalid reason). Late events update nothing here.
 */
export function viewUpdates(ctx: ProcessContext, event: SigflowEvent, windowStart: number, reason: InvalidReason | null): ViewUpdates {
  const valid = reason === null;
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
      return { windowMetric, spend: spendOf(event, windowStart, valid), attribution: null, heatmap: null, pageActivity: null, eventCount: null };
    }
    case 'conversion':
      if (!valid) return none;
      return { windowMetric: null, spend: null, attribution: attributeConversion(ctx.user.path, event, ctx), heatmap: null, pageActivity: null, eventCount: null };
    case 'track':
      // Valid or not: the counts per name say how many were invalid, by reason.
      return { ...none, eventCount: { windowStart, name: event.name, outcome: reason === null ? 'valid' : causeName({ kind: 'invalid', reason }), count: 1 } };
    case 'element_click':
      // The schema requires page_id on element_click; the check only narrows the type.
      if (!valid || event.page_id === undefined) return none;
      return { windowMetric: null, spend: null, attribution: null, heatmap: { page_id: event.page_id, windowStart, element_id: event.element_id, clicks: 1 }, pageActivity: null, eventCount: null };
    default:
      return valid ? pageActivityOf(ctx, event, windowStart) : none;
  }
}
