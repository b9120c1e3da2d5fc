import { UnrecoverableError, WaitingChildrenError, Worker, type Job, type Queue } from 'bullmq';
import type { RedisClient } from '@sigflow/store';
import { readArchiveWatermarks } from '@sigflow/store/batch';
import type { Registry } from 'prom-client';
import { archiveSealedThrough, hourFiles, isHourSealed } from '@sigflow/archive';
import type { Logger } from '@sigflow/observability';
import type { BatchContext } from './batch-context.js';
import { HOUR_MS } from './hour-range.js';
import { bullConnection, bullPrefix, InvalidJobDataError, parseJobRequest, type JobRequest } from '@sigflow/batch-jobs';
import { batchMetrics, type BatchMetrics } from './batch-metrics.js';
import { compactHour } from './compact-hour.js';
import { DuckDBSession } from './duckdb-session.js';
import { JobStoppedError, RecomputePartError } from './errors.js';
import { recomputeDirtyHours } from './recompute-dirty.js';
import { recomputeHours, type JobProgress, type RecomputeResult } from './recompute-hours.js';
import { awaitRecomputeParts, fansOut, reportPartToParent, sumPartAnswers, type HourSpan, type PartAnswer } from './recompute-flow.js';
import { reconcileHours } from './reconcile-hours.js';
import { trainAttribution } from './train-attribution.js';
import { recomputeSegments, type SegmentRecomputeResult } from './recompute-segments.js';
import { enforceRetention } from './enforce-retention.js';
import { deleteUser, type DeletionProgress } from './delete-user.js';

export interface BatchWorkerDeps {
  readonly context: BatchContext;
  readonly registry: Registry;
  readonly logger: Logger;
  /**
   * Where follow-up jobs go: a sealed hour with `batch.compactFromFiles` files or more gets a
   * `compact` job after its recompute. None: no follow-ups.
   */
  readonly queue?: Queue;
  /** BullMQ connection (default: a new one from the configuration). */
  readonly connection?: RedisClient;
  /**
   * Called once each job is done, whatever its outcome (a worker process's recycle check): true
   * closes the worker before it fetches another job.
   */
  readonly afterJob?: () => boolean;
}

/** The running worker. */
export interface BatchWorker {
  readonly worker: Worker;
  readonly metrics: BatchMetrics;
  close(): Promise<void>;
}

/** How a job request runs: the session to reuse, where progress goes, who computed it, the signal to stop. */
export interface JobRunOptions {
  readonly duckdb?: DuckDBSession | undefined;
  readonly onProgress?: ((p: JobProgress) => void | Promise<void>) | undefined;
  readonly computedBy?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs one job request and returns a small JSON summary (BullMQ keeps it as the return value).
 * Exposed so tests and the CLI can run a kind without a queue.
 */
export async function runJobRequest(
  request: JobRequest,
  ctx: BatchContext,
  options: JobRunOptions = {},
): Promise<Record<string, unknown> & { rowsRead: number; recomputedHours?: number[] }> {
  const { duckdb, onProgress, computedBy, signal } = options;
  switch (request.kind) {
    case 'recompute': {
      const hours = await recomputeHoursAnswer(ctx, request, { duckdb, onProgress, computedBy, signal });
      return { segments: await recomputeRangeSegments(ctx, request, duckdb, computedBy), ...hours };
    }
    case 'recompute-part':
      return { ...(await recomputeHoursAnswer(ctx, request, { duckdb, onProgress, computedBy, signal })) };
    case 'recompute-dirty': {
      const r = await recomputeDirtyHours({ context: ctx, duckdb, onProgress, computedBy, signal });
      return {
        dirty: r.dirty,
        hours: r.hours.length,
        ranges: r.ranges.length,
        staleHoursMarked: r.staleHoursMarked.length,
        rowsRead: r.rowsRead,
        recomputedHours: r.hours.filter((h) => h.replaced).map((h) => h.hourStart),
      };
    }
    case 'train-attribution': {
      const r = await trainAttribution({ context: ctx, from: request.from, to: request.to, duckdb, onProgress });
      return {
        from: r.from,
        to: r.to,
        shapleyVersion: r.shapley.version,
        markovVersion: r.markov.version,
        coalitions: Object.keys(r.shapley.values).length,
        users: r.users,
        convertedUsers: r.convertedUsers,
        rowsRead: r.rowsRead,
      };
    }
    case 'reconcile': {
      const r = await reconcileHours({ context: ctx, from: request.from, to: request.to, onProgress });
      return { ...r, rowsRead: 0 };
    }
    case 'compact': {
      const r = await compactHour({ context: ctx, hour: request.hour, force: request.force, duckdb });
      await onProgress?.({ hoursDone: 1, hoursTotal: 1, rowsRead: r.rows, percent: 100 });
      return { ...r, rowsRead: r.rows };
    }
    case 'enforce-retention': {
      const r = await enforceRetention({ context: ctx });
      await onProgress?.({ hoursDone: r.hours.length, hoursTotal: r.hours.length, rowsRead: 0, percent: 100 });
      return { ...r, rowsRead: 0 };
    }
    case 'delete-user': {
      const session = duckdb ?? (await DuckDBSession.forBatch(ctx.config.batch));
      try {
        const r = await deleteUser({ context: ctx, userId: request.userId, requestId: computedBy ?? 'library', duckdb: session });
        return { ...r, rowsRead: 0 };
      } finally {
        if (!duckdb) session.close();
      }
    }
  }
}

/** The hours of a recompute (or of one of its parts), as its job answers them. */
async function recomputeHoursAnswer(
  ctx: BatchContext,
  span: HourSpan,
  options: JobRunOptions,
): Promise<PartAnswer & { timings: RecomputeResult['timings'] }> {
  const r = await recomputeHours({ context: ctx, from: span.from, to: span.to, ...options });
  return {
    hours: r.hours.length,
    replaced: r.hours.filter((h) => h.replaced).length,
    versions: [...new Set(r.hours.map((h) => h.version))],
    events: r.hours.reduce((a, h) => a + h.events, 0),
    duplicates: r.hours.reduce((a, h) => a + h.duplicates, 0),
    rowsRead: r.rowsRead,
    eventsProcessed: r.eventsProcessed,
    passes: r.passes,
    passesFromVerdicts: r.passesFromVerdicts,
    timings: r.timings,
    recomputedHours: r.hours.filter((h) => h.replaced).map((h) => h.hourStart),
    staleHoursMarked: r.staleHoursMarked,
  };
}

/** The segments of a recompute's range, once for the whole range. */
async function recomputeRangeSegments(ctx: BatchContext, span: HourSpan, duckdb: DuckDBSession | undefined, computedBy: string | undefined) {
  const segments = await withSession(ctx, duckdb, (session) => recomputeSegments({ context: ctx, from: span.from, to: span.to, duckdb: session, computedBy }));
  return segmentSummary(segments);
}

/**
 * A deletion run by the queue: progress by step (never the id), the hours an earlier attempt
 * changed recomputed too, and once it completed, the job's data keeps only who asked: the
 * person's id is nowhere left.
 */
async function runDeletionJob(deps: BatchWorkerDeps, job: Job, userId: string, duckdb: DuckDBSession): Promise<unknown> {
  const previous = (job.progress ?? {}) as Partial<DeletionProgress>;
  const result = await deleteUser({
    context: deps.context,
    userId,
    requestId: String(job.id),
    duckdb,
    previousHours: Array.isArray(previous.hours) ? previous.hours : [],
    onProgress: (p) => job.updateProgress({ ...p }),
  });
  const { requestedBy } = job.data as { requestedBy?: string };
  await job.updateData(requestedBy === undefined ? { erased: true } : { requestedBy, erased: true });
  return result;
}

/** A job's answer about its segments: which definitions version it used, per segment its version. */
function segmentSummary(r: SegmentRecomputeResult) {
  return { definitionsVersion: r.definitionsVersion, segments: r.segments, skipped: r.skipped };
}

/** Runs `fn` with the given DuckDB session, or with one opened (and closed) for it. */
async function withSession<T>(ctx: BatchContext, duckdb: DuckDBSession | undefined, fn: (session: DuckDBSession) => Promise<T>): Promise<T> {
  if (duckdb) return fn(duckdb);
  const session = await DuckDBSession.forBatch(ctx.config.batch);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

/**
 * Starts the BullMQ worker of the batch queue: one job at a time (DuckDB uses the cores), with a
 * DuckDB session kept across jobs. Malformed job data fails at once (UnrecoverableError); any
 * other error is retried with the queue's exponential backoff until the attempts run out, and a
 * failed job never touches the serving version (it only switches in after everything is written).
 */
export function startBatchWorker(deps: BatchWorkerDeps): BatchWorker {
  const { context: ctx } = deps;
  const metrics = batchMetrics(deps.registry);
  let session: DuckDBSession | undefined;
  // Three parameters: BullMQ then hands each job an abort signal (`cancelJob` below).
  const processor = async (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> => {
    const end = metrics.jobDuration.startTimer({ kind: job.name });
    try {
      // A deletion that died after its last step left no id to run again: it is done.
      if (job.name === 'delete-user' && (job.data as { erased?: unknown } | undefined)?.erased === true) return job.returnvalue ?? { erased: true };
      const request = parseJobRequest(job.name, job.data);
      session ??= await DuckDBSession.forBatch(ctx.config.batch);
      const result = await runQueuedJob(deps, metrics, { job, token, signal }, request, session);
      metrics.jobs.inc({ kind: job.name, outcome: 'completed' });
      end({ outcome: 'completed' });
      return result;
    } catch (err) {
      // A recompute waiting for its parts: not a failure, it runs again once they are done.
      if (err instanceof WaitingChildrenError) throw err;
      throw jobFailure(deps, metrics, job, err, end);
    } finally {
      // The job's reads are over: the archive files it held for them can go (a local archive's links).
      await ctx.archive.endReads().catch((err: unknown) => deps.logger.warn({ err }, 'ending the job\'s archive reads failed'));
      if (deps.afterJob?.()) void worker.close();
    }
  };
  const worker = new Worker(ctx.config.batch.queueName, processor, {
    connection: deps.connection ?? bullConnection(ctx.config),
    prefix: bullPrefix(ctx.config),
    concurrency: 1,
    lockDuration: ctx.config.batch.lockDurationMs,
    stalledInterval: ctx.config.batch.stalledIntervalMs,
    // A job whose worker died is handed out again; BullMQ's default (once) would fail an ops
    // recompute for good after a second crash. Jobs are idempotent: allow as many as attempts.
    maxStalledCount: Math.max(1, ctx.config.batch.attempts),
    autorun: true,
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'batch worker error'));
  // The job's lock expired before this worker renewed it (a starved process): the job is another
  // worker's now, so this one stops it before its next pass instead of running on beside it.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) worker.cancelJob(id, 'its lock expired and went to another worker');
  });
  return {
    worker,
    metrics,
    close: async () => {
      await worker.close();
      session?.close();
      session = undefined;
    },
  };
}

/**
 * A recompute fanned out as parts (see `recompute-flow.ts`): once every part is done, the range's
 * segments and the parts' answers summed (the parts enqueued their own compactions).
 */
async function runFannedOutRecompute(deps: BatchWorkerDeps, queue: Queue, job: Job, token: string, span: HourSpan, duckdb: DuckDBSession): Promise<unknown> {
  const ctx = deps.context;
  const answers = await awaitRecomputeParts(queue, job, token, span, ctx.config.batch.hoursPerPart);
  const summed = sumPartAnswers(answers);
  const segments = await recomputeRangeSegments(ctx, span, duckdb, `job:${job.id ?? '?'}`);
  await job.updateProgress({ hoursDone: summed.hours, hoursTotal: summed.hours, rowsRead: summed.rowsRead, percent: 100 });
  return { segments, ...summed };
}

/** Runs a checked request for a queued job: progress to the job, rows to the metrics, follow-ups. */
async function runQueuedJob(
  deps: BatchWorkerDeps,
  metrics: BatchMetrics,
  held: { job: Job; token: string | undefined; signal: AbortSignal | undefined },
  request: JobRequest,
  duckdb: DuckDBSession,
): Promise<unknown> {
  const { job, token, signal } = held;
  if (request.kind === 'delete-user') return runDeletionJob(deps, job, request.userId, duckdb);
  if (request.kind === 'recompute' && deps.queue && token !== undefined && fansOut(request, deps.context.config.batch.hoursPerPart)) {
    return runFannedOutRecompute(deps, deps.queue, job, token, request, duckdb);
  }
  const kind = job.name;
  let lastRows = 0;
  let last: JobProgress | undefined;
  const result = await runJobRequest(request, deps.context, {
    duckdb,
    computedBy: `job:${job.id ?? '?'}`,
    signal,
    onProgress: async (p) => {
      metrics.rowsRead.inc({ kind }, Math.max(0, p.rowsRead - lastRows));
      lastRows = Math.max(lastRows, p.rowsRead);
      last = p;
      await job.updateProgress({ ...p });
    },
  });
  const recomputed = result.recomputedHours ?? [];
  metrics.hoursRecomputed.inc(recomputed.length);
  // Done: every hour of the job (a training's hours are its period's, not a count in its result).
  const hoursTotal = Number(result['hours'] ?? last?.hoursTotal ?? 1);
  await job.updateProgress({ hoursDone: hoursTotal, hoursTotal, rowsRead: result.rowsRead, percent: 100 });
  if (deps.queue && recomputed.length > 0) await enqueueCompactions(deps, recomputed);
  if (deps.queue && request.kind === 'recompute-part') await reportPartToParent(deps.queue, job, result as unknown as PartAnswer);
  return result;
}

/**
 * The error a failed job is failed with, counted once: malformed data and a part that failed for
 * good become an UnrecoverableError (no retry: it cannot succeed); anything else is retried until the attempts
 * run out.
 */
function jobFailure(deps: BatchWorkerDeps, metrics: BatchMetrics, job: Job, err: unknown, end: (labels: { outcome: string }) => void): unknown {
  const kind = job.name;
  if (err instanceof InvalidJobDataError) {
    metrics.jobs.inc({ kind, outcome: 'invalid' });
    end({ outcome: 'invalid' });
    return new UnrecoverableError(err.message);
  }
  if (err instanceof JobStoppedError) {
    metrics.jobs.inc({ kind, outcome: 'stopped' });
    end({ outcome: 'stopped' });
    deps.logger.warn({ job: job.id, kind, reason: err.message }, 'batch job stopped: another worker holds it now');
    return err;
  }
  if (err instanceof RecomputePartError) {
    metrics.jobs.inc({ kind, outcome: 'failed' });
    end({ outcome: 'error' });
    deps.logger.warn({ err, job: job.id, kind }, 'batch job failed');
    return new UnrecoverableError(err.message);
  }
  const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  metrics.jobs.inc({ kind, outcome: last ? 'failed' : 'retrying' });
  end({ outcome: 'error' });
  deps.logger.warn({ err, job: job.id, kind, attempt: job.attemptsMade + 1 }, last ? 'batch job failed' : 'batch job failed; will retry');
  return err;
}

async function enqueueCompactions(deps: BatchWorkerDeps, hours: readonly number[]): Promise<void> {
  const ctx = deps.context;
  const threshold = ctx.config.batch.compactFromFiles;
  const sealed = archiveSealedThrough(await readArchiveWatermarks(ctx.redis, ctx.keys, ctx.topic), ctx.settings);
  for (const hour of hours) {
    if (!isHourSealed(hour, sealed)) continue;
    if ((await hourFiles(ctx.archive, hour)).length < threshold) continue;
    // At most one compaction per archive hour per wall-clock hour: the job id dedupes.
    await deps.queue?.add('compact', { hour, requestedBy: 'batch:recompute' }, { jobId: `compact-${hour}-${Math.floor(Date.now() / HOUR_MS)}` });
  }
}
