/** Size and count limits of the event contract (DESIGN.md, "Events"). */
export const eventLimits = Object.freeze({
  /** One event, serialized as JSON. */
  maxEventBytes: 8 * 1024,
  /** One ingest request. */
  maxBatchEvents: 1_000,
  maxBatchBytes: 1024 * 1024,
  maxEventIdLength: 64,
  maxUserIdLength: 128,
  maxIdLength: 128,
  maxUserAgentLength: 1_024,
  maxHrefLength: 2_048,
  maxAttrs: 64,
  maxAttrValueLength: 512,
  /** The `cost` of an impression or click: integer micros, at most 1e12 (a million currency units). */
  maxCostMicros: 1_000_000_000_000,
  /** A custom event's name, after lower-casing and spaces turned into `_` (the original kept, up to `maxIdLength`). */
  maxEventNameLength: 64,
  /** A custom event's properties, and their keys and string values. */
  maxProperties: 32,
  maxPropertyKeyLength: 64,
  maxPropertyValueLength: 256,
  /** Traits of one `identify` (and of a group), and kept per user at most. */
  maxTraits: 64,
});
