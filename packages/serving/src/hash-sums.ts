import { FIELD_SEPARATOR, fieldParts } from '@sigflow/store';
import { forEachField, type HashReply } from '@sigflow/store/views';
import { emptyMetricTotals, metricByField, type MetricTotals } from './metric-fields.js';

/** Totals of one campaign-hour metrics hash (every window and ad of the hour). */
export function sumMetricsHash(hash: HashReply | null): MetricTotals {
  const totals = emptyMetricTotals();
  if (!hash) return totals;
  forEachField(hash, (f, v) => {
    const metric = metricByField.get(f.slice(f.lastIndexOf(FIELD_SEPARATOR) + 1));
    const value = Number(v);
    if (metric && Number.isFinite(value)) totals[metric] += value;
  });
  return totals;
}

/** Attributed conversions and revenue. */
export interface AttributedTotals {
  conversions: number;
  revenue: number;
}

/** Totals per campaign of one model-hour attribution hash (fields `${windowStart}\t${campaign}\t${channel}\t${c|r}`). */
export function sumAttributionByCampaign(hash: HashReply | null): Map<string, AttributedTotals> {
  const byCampaign = new Map<string, AttributedTotals>();
  if (!hash) return byCampaign;
  forEachField(hash, (f, v) => {
    const [, campaign, , kind] = fieldParts(f);
    const value = Number(v);
    if (campaign === undefined || !Number.isFinite(value)) return;
    const t = byCampaign.get(campaign) ?? { conversions: 0, revenue: 0 };
    if (kind === 'c') t.conversions += value;
    else if (kind === 'r') t.revenue += value;
    byCampaign.set(campaign, t);
  });
  return byCampaign;
}

/** Cause counts per campaign of a quality hash (fields `${campaignId}\t${cause}`). */
export function causesByCampaign(hash: HashReply | null): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  if (!hash) return out;
  forEachField(hash, (f, v) => {
    const tab = f.indexOf(FIELD_SEPARATOR);
    const value = Number(v);
    if (tab < 0 || !Number.isFinite(value)) return;
    const campaign = f.slice(0, tab);
    const causes = out.get(campaign) ?? new Map<string, number>();
    causes.set(f.slice(tab + 1), (causes.get(f.slice(tab + 1)) ?? 0) + value);
    out.set(campaign, causes);
  });
  return out;
}
