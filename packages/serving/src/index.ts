// What the serving API reads through and the batch layer records with: the merge rule (batch
// views up to the batch watermark, speed views after) and the speed-vs-batch reconciliation
// (one implementation, diff = speed - batch). Pure functions over the store's read shapes.
export { windowSource, mergedCells, forEachMergedField, bucketOf, bucketSource, DAY_MS } from './merge-rule.js';
export type { ViewSource, RowSource, Granularity, MergedCell, MergeOptions } from './merge-rule.js';
export { metricsRows } from './metrics-rows.js';
export type { MetricsRow } from './metrics-rows.js';
export { attributionRowsOf } from './attribution-rows.js';
export type { AttributionGroupBy, AttributionRow } from './attribution-rows.js';
export { heatmapOf } from './heatmap.js';
export type { HeatmapElement } from './heatmap.js';
export { compareValues, compareCampaigns, layersDiffer, reconciliationRows, reconciledModel } from './reconciliation.js';
export type { Comparison, CampaignComparison, NamedCause, NamedCauseName, ReconciliationCauses, RecordedComparison, ReconciliationRow } from './reconciliation.js';
