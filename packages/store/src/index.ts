export { StoreKeys, hourStart, field, fieldParts, FIELD_SEPARATOR, windowMetricFields, spendFields } from './store-keys.js';
export { windowViewCommands, windowViewHashes } from './view-commands.js';
export type { KeyExpiry, RedisCommand, ViewHashWrite, WindowViewKeyspace } from './view-commands.js';
export { fencedCommit, fencedOutboxTrim, OffsetFenceError } from './fenced-commit.js';
export type { CommitFence } from './fenced-commit.js';
export { createRedis, redisAnswers, isCluster, duplicateClient } from './redis-client.js';
export type { RedisClient } from './redis-client.js';
export { slotSafePipeline, scanKeys, unlinkKeys, getKeys } from './cluster-commands.js';
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
  speedKeyspace,
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
  spendViewKeys,
  attributionViewKeys,
  heatmapViewKeys,
  pageActivityViewKeys,
  readPageUrl,
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
export { ClosedHourCache } from './closed-hour-cache.js';
export type {
  WindowedViewKeys,
  ClosedHourReads,
  BatchState,
  SignalFilter,
  ReconciliationQuery,
  LayerHashesQuery,
  ServingStatus,
} from './view-readers.js';
export { deleteKeysWithPrefix } from './key-cleanup.js';
export { readStoredUserStates } from './user-state-reads.js';
export type { StoredUserState } from './user-state-reads.js';
export {
  recordTombstone,
  pruneTombstones,
  hasTombstone,
  readTombstones,
  requestSpeedErasure,
  speedErasurePending,
  readSpeedErasures,
  speedErasureCommands,
  eraseSpeedStateDirectly,
  eraseBatchSegmentMemberships,
} from './privacy-state.js';
export { keyBound } from './key-bounds.js';
export { changeBudget, readBudget, readBudgets, readBudgetChanges, parseStoredBudget, budgetChangesKept } from './budgets.js';
export type { StoredBudget, BudgetChange, KeyIdentity } from './budgets.js';
export {
  writeBiddingStates,
  readBiddingState,
  readBiddingStates,
  deleteBiddingState,
  readPublishedMarks,
  writePublishedMarks,
  deletePublishedMark,
  holdBiddingLease,
  releaseBiddingLease,
} from './bidding-state.js';
export type { PublishedMark } from './bidding-state.js';
export { BiddingAnswerCache, type BiddingAnswerCacheOptions, type CacheOutcome } from './bidding-answer-cache.js';
export { DefinitionLimitError } from './errors.js';
export { putSegmentDefinition, deleteSegmentDefinition, readSegmentDefinitions, readSegmentDefinition, readSegmentsVersion, readSegmentIndex } from './segment-definitions.js';
export { segmentViewCommands, segmentSizeKey } from './segment-view-commands.js';
export type { SegmentViewChanges, SegmentMemberChange } from './segment-view-commands.js';
export { readSegmentSizes, readSegmentMembers, readSegmentBatchMembersState, readSpeedClock, dropSegmentViews } from './segment-readers.js';
export type { SegmentSizeWindow, SegmentMember } from './segment-readers.js';
export { writeSegmentBatch } from './segment-batch-writes.js';
export {
  putAlertRule,
  deleteAlertRule,
  readAlertRules,
  readAlertRule,
  alertSeriesField,
  readAlertEvaluation,
  deliveryId,
  parseDeliveryId,
  holdAlertsLease,
  releaseAlertsLease,
  applyWithAlertsLease,
  readAlertOutbox,
  ackAlertOutbox,
  writeAlertDelivery,
  readAlertDeliveries,
  readAlertEpisode,
  readAlertEpisodes,
} from './alert-store.js';
export type { StoredAlertRule, AlertDelivery, AlertEpisode, DeliveryKind, StoredAlertSeries } from './alert-store.js';
