// @sigflow/store/batch: The batch layer's published versions (batch hours, the watermark, the published models) and the archive's dirty hours and watermarks.
export { markDirtyCommand, raiseArchiveWatermarks, readArchiveWatermarks } from './archive-state.js';
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
export type { BatchHourEntry, BatchSwitchResult, PublishedMarkovModel, PublishedShapleyTable } from './batch-views.js';
