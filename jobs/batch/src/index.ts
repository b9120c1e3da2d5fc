// The batch layer's public surface: the recompute as a library function (the cross-layer test
// calls it), the other jobs, the queue and worker, and the CLI entry for tests.
export { recomputeHours } from './recompute-hours.js';
export type { RecomputeHoursOptions, RecomputeResult, RecomputedHour, JobProgress } from './recompute-hours.js';
export { recomputeDirtyHours } from './recompute-dirty.js';
export type { RecomputeDirtyResult } from './recompute-dirty.js';
export { trainAttribution } from './train-attribution.js';
export type { TrainAttributionOptions, TrainAttributionResult } from './train-attribution.js';
export { reconcileHours } from './reconcile-hours.js';
export type { ReconcileResult } from './reconcile-hours.js';
export { compactHour } from './compact-hour.js';
export type { CompactResult } from './compact-hour.js';
export { recomputeWindow } from './recompute-input.js';
export type { RecomputeWindow } from './recompute-input.js';
export { runRules, floodedClicksOf } from './run-rules.js';
export { batchWatermarkCandidate } from './batch-watermark.js';
export { createBatchContext } from './batch-context.js';
export type { BatchContext } from './batch-context.js';
export { DuckDBSession } from './duckdb-session.js';
export type { DuckDBSessionOptions } from './duckdb-session.js';
export { startBatchWorker, runJobRequest } from './batch-worker.js';
export type { BatchWorker, BatchWorkerDeps } from './batch-worker.js';
export { runCli } from './cli-commands.js';
export { progressBar } from './cli-views.js';
export type { CliOutput } from './cli-views.js';
export { viewFolder } from './view-parquet.js';
export { ArchiveScanError } from './errors.js';
export { hoursOf, isoHour, contiguousRanges } from './hour-range.js';
