// @sigflow/store/segments-alerts: Segment definitions, sizes and members; alert rules, episodes and deliveries.
export {
  putSegmentDefinition,
  deleteSegmentDefinition,
  readSegmentDefinitions,
  readSegmentDefinition,
  readSegmentsVersion,
  readSegmentIndex,
} from './segment-definitions.js';
export { segmentViewCommands, segmentSizeKey } from './segment-view-commands.js';
export type { SegmentMemberChange } from './segment-view-commands.js';
export {
  readSegmentSizes,
  readSegmentMembers,
  readSegmentBatchMembersState,
  readSpeedClock,
  dropSegmentViews,
} from './segment-readers.js';
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
export type {
  StoredAlertRule,
  AlertDelivery,
  AlertEpisode,
  DeliveryKind,
  StoredAlertSeries,
} from './alert-store.js';
