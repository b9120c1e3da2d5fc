import { windowMetricFields } from '@sigflow/store';

/** Counts of a windowed metrics hash by metric (valid impressions and clicks, invalid apart). */
export type MetricTotals = Record<keyof typeof windowMetricFields, number>;

/** Metric name of a metrics hash field's last part (`impressions`, `invalid_clicks`, ...). */
export const metricByField = new Map<string, keyof typeof windowMetricFields>(
  (Object.entries(windowMetricFields) as [keyof typeof windowMetricFields, string][]).map(([name, f]) => [f, name]),
);

export const emptyMetricTotals = (): MetricTotals => ({ impressions: 0, clicks: 0, invalidImpressions: 0, invalidClicks: 0 });
