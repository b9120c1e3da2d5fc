/**
 * @sigflow/loadgen: a deterministic traffic generator with labels known by construction
 * and truth files (expected results) for tests and benchmarks.
 */
export { generateEvents, EventStream, resolveGeneratorOptions, lateMarginMs } from './generate-events.js';
export type { GeneratorOptions, ResolvedGeneratorOptions, StreamStats } from './generate-events.js';
export type { GeneratedEvent, Validity, InvalidReason } from './generated-event.js';
export { invalidReasons } from './generated-event.js';
export type { Knobs, JourneyKind } from './journeys.js';
export type { GeneratorRules } from './rules.js';
export type { CtrDrop } from './ctr-drop.js';
export { buildCatalogue, channels } from './catalogue.js';
export type { Catalogue, Campaign, Ad, Page, Channel } from './catalogue.js';
export { TruthRecorder } from './truth.js';
export type {
  TruthFile,
  TruthTotals,
  WindowTruth,
  ConversionTruth,
  PathTouchpoint,
  HeatmapTruth,
  TruthSource,
} from './truth.js';
export type { EventSink, SinkEvent, SinkStats } from './sinks/event-sink.js';
export { KafkaSink } from './sinks/kafka-sink.js';
export type { KafkaSinkOptions } from './sinks/kafka-sink.js';
export { HttpSink } from './sinks/http-sink.js';
export type { HttpSinkOptions } from './sinks/http-sink.js';
export { NullSink } from './sinks/null-sink.js';
export { runGenerator } from './run-generator.js';
export type { RunGeneratorOptions, RunStats, Progress } from './run-generator.js';
export { browserUserAgents, botUserAgents } from './user-agents.js';
export { runShoppers } from './shoppers.js';
export type { ShoppersOptions } from './shoppers.js';
