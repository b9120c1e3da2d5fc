// @sigflow/store/ops: Ops decisions as records of the ops log (restore after a store loss), the store marker, the events topic's recorded partition count, and privacy: tombstones and erasures.
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
export {
  applyOpsRecords,
  opsRecordsOfStore,
  budgetRecords,
  segmentRecord,
  alertRuleRecord,
  modelRecord,
  tombstoneRecord,
} from './ops-state.js';
export { readStoreMarker, markStore, storeLayoutVersion, upgradeStoreMarker, withRestoreLease, type StoreMarker } from './store-marker.js';
export { recordEventPartitions, recordedEventPartitions } from './event-partitions.js';
