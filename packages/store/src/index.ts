export { StoreKeys, hourStart, field, fieldParts, FIELD_SEPARATOR, windowMetricFields } from './store-keys.js';
export { windowViewCommands } from './view-commands.js';
export type { RedisCommand, WindowViewKeyspace } from './view-commands.js';
export { fencedCommit, OffsetFenceError } from './fenced-commit.js';
export { createRedis, redisAnswers } from './redis-client.js';
export {
  archiveWatermarksKey,
  archiveWatermarkField,
  markDirtyCommand,
  raiseArchiveWatermarks,
  readArchiveWatermarks,
  archiveSealedThrough,
  isHourSealed,
} from './archive-state.js';
export {
  parseBatchHourEntry,
  readBatchHourEntries,
  readBatchWatermark,
  batchKeyspace,
  batchVersionKeysKey,
  switchBatchHours,
  readMarkovModel,
} from './batch-views.js';
export type { BatchHourEntry, BatchSwitchHour, BatchSwitchResult, PublishedMarkovModel } from './batch-views.js';
export {
  hoursOf,
  windowSource,
  forEachField,
  isEmptyHash,
  forEachMergedField,
  mergedCells,
  bucketOf,
  bucketSource,
  metricsRows,
  attributionRowsOf,
  heatmapOf,
  compareValues,
  sumMetricsHash,
  sumAttributionByCampaign,
  causesByCampaign,
  reconciliationCauses,
  reconciliationRows,
  HOUR_MS,
  DAY_MS,
} from './merge-views.js';
export type {
  ViewSource,
  RowSource,
  Granularity,
  TimeRange,
  HashReply,
  HourHashes,
  WindowedHashes,
  MergedCell,
  MetricsRow,
  MergeOptions,
  AttributionGroupBy,
  AttributionRow,
  HeatmapElement,
  Comparison,
  MetricTotals,
  ReconciliationCauses,
  ReconciliationHour,
  ReconciliationData,
  ReconciliationRow,
} from './merge-views.js';
export {
  metricsViewKeys,
  attributionViewKeys,
  heatmapViewKeys,
  readBatchState,
  readWindowedView,
  readSignals,
  readUserState,
  readReconciliation,
  readServingStatus,
  ReadLimitError,
} from './view-readers.js';
export type {
  WindowedViewKeys,
  BatchState,
  SignalFilter,
  ReconciliationQuery,
  ServingStatus,
} from './view-readers.js';
export { deleteKeysWithPrefix } from './key-cleanup.js';
