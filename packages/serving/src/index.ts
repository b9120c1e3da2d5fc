// What the serving API reads through and the batch layer records with: the merge rule (batch
// views up to the batch watermark, speed views after) and the speed-vs-batch reconciliation
// (one implementation, diff = speed - batch). Pure functions over the store's read shapes.
export { windowSource, hourLayers, mergedCells, forEachMergedField, bucketOf, bucketSource, DAY_MS } from './merge-rule.js';
export type { ViewSource, RowSource, Granularity, MergedCell, MergeOptions } from './merge-rule.js';
export { metricsRows } from './metrics-rows.js';
export { segmentSizeRows } from './segment-size-rows.js';
export type { SegmentSizeRow } from './segment-size-rows.js';
export type { MetricsRow } from './metrics-rows.js';
export { attributionRowsOf } from './attribution-rows.js';
export { eventCountRows } from './event-count-rows.js';
export type { EventCountRow } from './event-count-rows.js';
export type { AttributionGroupBy, AttributionRow } from './attribution-rows.js';
export { heatmapOf } from './heatmap.js';
export { spendRows } from './spend-rows.js';
export type { SpendRow } from './spend-rows.js';
export { spendCellsOf, revenueCellsOf } from './spend-cells.js';
export type { HeatmapElement } from './heatmap.js';
export { scrollReachOf, formFunnelsOf, mouseGridOf } from './page-activity.js';
export { compareValues, compareCampaigns, layersDiffer, reconciliationRows, reconciledModel } from './reconciliation.js';
export type { Comparison, CampaignComparison, NamedCause, NamedCauseName, ReconciliationCauses, RecordedComparison, ReconciliationRow } from './reconciliation.js';
export { biddingAnswer, BiddingAnswerSchema, BiddingChangeSchema } from './bidding-answer.js';
export type { BiddingAnswer, BiddingMessage, AnswerContext } from './bidding-answer.js';
