export { StoreKeys, hourStart, field, fieldParts, FIELD_SEPARATOR, windowMetricFields } from './store-keys.js';
export { windowViewCommands } from './view-commands.js';
export type { RedisCommand, WindowViewKeyspace } from './view-commands.js';
export { fencedCommit, fencedOutboxTrim, OffsetFenceError } from './fenced-commit.js';
export type { CommitFence } from './fenced-commit.js';
export { createRedis, redisAnswers } from './redis-client.js';
export {
  archiveWatermarksKey,
  archiveWatermarkField,
  markDirtyCommand,
  raiseArchiveWatermarks,
  readArchiveWatermarks,
} from './archive-state.js';
export {
  parseBatchHourEntry,
  readBatchHourEntries,
  readBatchWatermark,
  batchKeyspace,
  batchVersionKeysKey,
  switchBatchHours,
  readMarkovModel,
  readShapleyTable,
} from './batch-views.js';
export type { BatchHourEntry, BatchSwitchHour, BatchSwitchResult, PublishedMarkovModel, PublishedShapleyTable } from './batch-views.js';
export { readRecentUsers } from './recent-users.js';
export type { RecentUser } from './recent-users.js';
export { hoursOf, forEachField, isEmptyHash, HOUR_MS } from './view-replies.js';
export type {
  TimeRange,
  HashReply,
  HourHashes,
  WindowedHashes,
  LayerHashes,
  ReconciliationHour,
  ReconciliationData,
} from './view-replies.js';
export {
  metricsViewKeys,
  attributionViewKeys,
  heatmapViewKeys,
  speedPartitions,
  sumHashes,
  readBatchState,
  readWindowedView,
  readSignals,
  readUserState,
  readReconciliation,
  readLayerHashes,
  readServingStatus,
} from './view-readers.js';
export { ReadLimitError } from './errors.js';
export type {
  WindowedViewKeys,
  BatchState,
  SignalFilter,
  ReconciliationQuery,
  LayerHashesQuery,
  ServingStatus,
} from './view-readers.js';
export { deleteKeysWithPrefix } from './key-cleanup.js';
export { readStoredUserStates } from './user-state-reads.js';
export type { StoredUserState } from './user-state-reads.js';
