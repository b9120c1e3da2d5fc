export {
  eventTypes,
  touchpointTypes,
  formActions,
  eventSchemas,
  SigflowEventSchema,
  ImpressionEvent,
  ClickEvent,
  ConversionEvent,
  PageViewEvent,
  ElementClickEvent,
  ScrollEvent,
  FormInteractionEvent,
  LinkFollowEvent,
  MouseMoveEvent,
  TrackEvent,
  IdentifyEvent,
  AliasEvent,
  GroupEvent,
  identityTypes,
  isTouchpoint,
  floodIpOf,
} from './schema.js';
export type { EventType, TouchpointType, FormAction, SigflowEvent, TouchpointEvent, ReceivedEvent } from './schema.js';
export { validateEvent, validateBatch, decodeEvent, EventDecodeError } from './validate.js';
export type { TimeLimits, RejectionCode, EventCheck, AcceptedEvent, RejectedEvent, BatchValidation } from './validate.js';
export { eventLimits } from './limits.js';
export { flattenBag, normalizeCustomEvent, normalizeEventName } from './custom-event.js';
export { topicNames, topicsFor } from './topics.js';
export { opsRecordKinds, OpsRecordSchema, opsRecordKey, parseOpsRecord } from './ops-records.js';
export type { OpsRecord, OpsRecordKind } from './ops-records.js';
export type { Topics, TopicRole } from './topics.js';
export { userKeyHash, userPartition } from './user-partition.js';
export { AnalyticsMessageSchema, AttributedConversionMessage, SegmentChangeMessage, analyticsMessageProblem } from './analytics-messages.js';
export type { AnalyticsMessageValue } from './analytics-messages.js';
