// @sigflow/store/views: The windowed views both layers write and the API reads: the view hashes (writes), the merge-rule reads, their replies and the closed-hour cache.
export { windowViewCommands, windowViewHashes } from './view-commands.js';
export type { RedisCommand, ViewHashWrite, WindowViewKeyspace } from './view-commands.js';
export { hoursOf, forEachField, isEmptyHash } from './view-replies.js';
export type {
  TimeRange,
  HashReply,
  WindowedHashes,
  LayerHashes,
  ReconciliationData,
} from './view-replies.js';
export {
  metricsViewKeys,
  spendViewKeys,
  attributionViewKeys,
  heatmapViewKeys,
  eventCountViewKeys,
  pageActivityViewKeys,
  readPageUrl,
  speedPartitions,
  readWindowedView,
  readSignals,
  readUserState,
  readReconciliation,
  readLayerHashes,
  readServingStatus,
} from './view-readers.js';
export { ClosedHourCache } from './closed-hour-cache.js';
export type { WindowedViewKeys, HourLayersOf, ClosedHourReads } from './view-readers.js';
