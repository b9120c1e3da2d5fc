import type { RedisClient } from '@sigflow/store';
import type { SigflowConfig } from '@sigflow/config';
import { isbotVersion, type MarkovModel, type ShapleyTable } from '@sigflow/core';
import { StagingArea } from '@sigflow/archive';
import { createBatchContext, type BatchContext } from './batch-context.js';
import { DuckDBSession } from './duckdb-session.js';
import { InvalidJobDataError } from '@sigflow/batch-jobs';
import { hourStart, HOUR_MS, hourSpans } from './hour-range.js';
import { HourViewsAccumulator } from './hour-views.js';
import { markLateDependents } from './late-dependents.js';
import { loadPublishedModels } from './published-models.js';
import { newVersion, switchHours, writeHourVersion, type WrittenHour } from './publish-version.js';
import { dropRecomputeInput, knownVerdictColumn, loadRecomputeInput, recomputeWindow, viewEventFilter, type RecomputeInput, type RecomputeWindow } from './recompute-input.js';
import { runRules, type RuleRunStats } from './run-rules.js';
import { correctPassSignals } from './signal-corrections.js';
import { RuleThreadPool } from './sharded-rules.js';
import { writeViewParquet } from './view-parquet.js';
import { currentVerdictFiles, dropVerdictVersion, pruneHourVerdicts, verdictRules, writeTouchpointVerdicts } from './touchpoint-verdicts.js';
import { throwIfStopped, VerdictReadError } from './errors.js';
import { readRelisting } from './archive-scan.js';

/** Progress of a job, as `job.updateProgress` publishes it. */
export interface JobProgress {
  readonly hoursDone: number;
  readonly hoursTotal: number;
  /** Archive rows read so far (range copies + context rows). */
  readonly rowsRead: number;
  /** 0..100. */
  readonly percent: number;
}

/** Outcome of one recomputed hour. */
export interface RecomputedHour {
  readonly hourStart: number;
  readonly version: string;
  /** Non-duplicate events and dropped later copies of the hour. */
  readonly events: number;
  readonly duplicates: number;
  /** False when a computation from a later read of the archive had switched in already. */
  readonly replaced: boolean;
}

export interface RecomputeResult {
  readonly hours: RecomputedHour[];
  readonly rowsRead: number;
  /** Events run through the rules (range + context, first copies). */
  readonly eventsProcessed: number;
  readonly files: number;
  /** Hours after the range this recompute marked dirty: a late file in the range made them stale (see `markLateDependents`). */
  readonly staleHoursMarked: number[];
  /** Passes run, and those whose converting users' context came from touchpoint verdicts (`touchpoint-verdicts.ts`). */
  readonly passes: number;
  readonly passesFromVerdicts: number;
  /** Where the time went (ms): DuckDB scan/dedupe, rules in JS (with DuckDB sort + streaming), Redis and Parquet writes. */
  readonly timings: {
    readonly scanMs: number;
    readonly rulesMs: number;
    /** Parts of rulesMs: DuckDB sorts (IP flood pass, then by user) and JS (events, processEvent, folds). */
    readonly floodMs: number;
    readonly sortMs: number;
    readonly rulesJsMs: number;
    readonly waitMs: number;
    readonly convertMs: number;
    /** Correcting the hours' user signals with the batch verdicts (`signal-corrections.ts`). */
    readonly signalsMs: number;
    readonly writeMs: number;
    readonly totalMs: number;
  };
}

export interface RecomputeHoursOptions {
  /** Range of event time [from, to), ms; widened to whole hours. */
  readonly from: number;
  readonly to: number;
  /** Either a context, or the configuration and a Redis client to make one. */
  readonly context?: BatchContext;
  readonly config?: SigflowConfig;
  readonly redis?: RedisClient;
  /** Models to apply; default: the published ones (null = explicitly none). */
  readonly shapley?: ShapleyTable | null;
  readonly markov?: MarkovModel | null;
  /** Recorded in each hour's entry (the BullMQ job id). */
  readonly computedBy?: string;
  readonly onProgress?: (progress: JobProgress) => void | Promise<void>;
  /** Aborted when the job must stop (its worker lost the job's lock): checked before each pass. */
  readonly signal?: AbortSignal | undefined;
  /** Reuse a DuckDB session (the worker keeps one); default: one for this call. */
  readonly duckdb?: DuckDBSession;
  readonly now?: () => number;
}

/**
 * Recomputes the batch views of the hours [from, to) from the Parquet archive and switches each
 * hour's new version in atomically with the batch watermark. Per pass of up to `hoursPerPass`
 * hours: DuckDB reads the range and the context it needs (see `recomputeWindow`), dedupes by
 * event_id, sorts by (user_id, ts, event_id); the SAME core rules as the speed layer run over
 * it; the outcomes of the range are folded per hour and written as a new version. Idempotent:
 * the same archive gives the same views (a new version id each time).
 */
export async function recomputeHours(input: RecomputeHoursOptions): Promise<RecomputeResult> {
  const ctx = input.context ?? contextOf(input);
  const now = input.now ?? Date.now;
  const from = hourStart(input.from);
  const to = hourStart(input.to) === input.to ? input.to : hourStart(input.to) + HOUR_MS;
  if (!(Number.isFinite(from) && Number.isFinite(to)) || to <= from) {
    throw new InvalidJobDataError(`recompute needs from < to, got [${input.from}, ${input.to})`);
  }
  const started = now();
  const hoursTotal = (to - from) / HOUR_MS;
  const batch = ctx.config.batch;
  const session = input.duckdb ?? (await DuckDBSession.forBatch(batch));
  const staging = batch.writeViewParquet || batch.touchpointVerdicts ? await StagingArea.open(ctx.root) : undefined;
  const timings = { scanMs: 0, rulesMs: 0, floodMs: 0, sortMs: 0, rulesJsMs: 0, waitMs: 0, convertMs: 0, signalsMs: 0, writeMs: 0 };
  const hours: RecomputedHour[] = [];
  let rowsRead = 0;
  let eventsProcessed = 0;
  let files = 0;
  let pool: RuleThreadPool | undefined;
  let staleHoursMarked: number[] = [];
  let passes = 0;
  let passesFromVerdicts = 0;
  const decidedUnder = verdictRules(ctx.settings);
  try {
    const published = await loadPublishedModels(ctx.redis, ctx.keys);
    const shapley = input.shapley !== undefined ? input.shapley : published.shapley;
    const markov = input.markov !== undefined ? input.markov : published.markov;
    const markovVersion = input.markov !== undefined ? null : published.markovVersion;
    const report = (hoursDone: number, fraction: number) =>
      input.onProgress?.({
        hoursDone,
        hoursTotal,
        rowsRead,
        percent: Math.min(100, Math.round(((hoursDone + fraction) / hoursTotal) * 1000) / 10),
      });
    await report(0, 0);
    // Before this range's switch takes its dirty hours off the set (nothing else remembers a late file).
    staleHoursMarked = await markLateDependents(ctx, session.connection, from, to);
    for (const { from: passFrom, to: passTo } of hourSpans(from, to, batch.hoursPerPass)) {
      throwIfStopped(input.signal);
      const passHours = (passTo - passFrom) / HOUR_MS;
      const hoursDone = (passFrom - from) / HOUR_MS;
      const asOf = now();
      const conn = session.connection;

      let t = performance.now();
      const loaded = await loadPassInput(ctx, conn, recomputeWindow(passFrom, passTo, ctx.settings));
      timings.scanMs += performance.now() - t;
      passes++;
      if (loaded.fromVerdicts) passesFromVerdicts++;
      rowsRead += loaded.rangeCopies + loaded.contextRows;
      files += loaded.files;
      await report(hoursDone, 0.1 * passHours);

      t = performance.now();
      const acc = new HourViewsAccumulator(passFrom, passTo, loaded.duplicates, loaded.eventsPerHour);
      const fed = Math.max(1, loaded.fedEvents);
      const rules = {
        settings: ctx.settings,
        shapley,
        markov,
        where: batch.viewEventsOnly ? viewEventFilter : undefined,
        verdictColumn: knownVerdictColumn,
        floodTable: 'fed',
        // The outcomes are summed into views and nothing else: core skips what no view reads.
        viewsOnly: true,
        onChunk: (processed: number) => (processed % 262_144 < 2_048 ? report(hoursDone, passHours * (0.1 + (0.8 * processed) / fed)) : undefined),
      };
      let stats: RuleRunStats;
      if (batch.ruleThreads > 1) {
        pool ??= RuleThreadPool.open(batch.ruleThreads);
        const sharded = await pool.run(conn, 'rules_input', { ...rules, from: passFrom, to: passTo });
        for (const totals of sharded.totals) acc.merge(totals);
        stats = sharded;
      } else {
        stats = await runRules(conn, 'rules_input', { ...rules, onOutcome: (outcome, event) => acc.add(outcome, event) });
      }
      eventsProcessed += stats.processed;
      timings.floodMs += stats.floodMs;
      timings.sortMs += stats.sortMs;
      timings.rulesJsMs += stats.rulesJsMs;
      timings.waitMs += stats.waitMs;
      timings.convertMs += stats.convertMs;
      const views = acc.finish();
      timings.rulesMs += performance.now() - t;

      t = performance.now();
      const corrected = await correctPassSignals(ctx, conn, views.map((v) => v.hourStart), acc.invalidEvents());
      for (const v of views) for (const [f, n] of corrected.get(v.hourStart) ?? []) v.quality.set(f, (v.quality.get(f) ?? 0) + n);
      timings.signalsMs += performance.now() - t;

      t = performance.now();
      const version = newVersion(asOf);
      const passHourStarts = views.map((v) => v.hourStart);
      if (batch.touchpointVerdicts && staging) await writeTouchpointVerdicts(conn, staging, ctx.archive, passHourStarts, version, decidedUnder, acc.invalidTouchpoints());
      await dropRecomputeInput(conn);
      const info = {
        version,
        asOf,
        computedBy: input.computedBy ?? 'library',
        shapleyVersion: shapley?.version ?? null,
        markovVersion: markov ? markovVersion : null,
        isbotVersion,
      };
      const written: WrittenHour[] = [];
      for (const v of views) written.push(await writeHourVersion(ctx, v, info));
      const results = await switchHours(ctx, asOf, written, now());
      for (const r of results) {
        const w = written.find((x) => x.hourStart === r.hourStart) as WrittenHour;
        hours.push({ hourStart: r.hourStart, version, events: w.entry.rows, duplicates: w.entry.duplicates, replaced: r.replaced });
        if (r.replaced && staging && batch.writeViewParquet) await writeViewParquet(conn, staging, ctx.archive, w.views, version);
        if (batch.touchpointVerdicts) await (r.replaced ? pruneHourVerdicts(ctx.archive, r.hourStart, version) : dropVerdictVersion(ctx.archive, r.hourStart, version, decidedUnder));
      }
      timings.writeMs += performance.now() - t;
      await report(hoursDone + passHours, 0);
    }
  } finally {
    await pool?.close();
    await staging?.close();
    if (!input.duckdb) session.close();
  }
  return { hours, rowsRead, eventsProcessed, files, staleHoursMarked, passes, passesFromVerdicts, timings: { ...timings, totalMs: now() - started } };
}

/**
 * A pass's input ({@link loadListedPassInput}), listed and read again when a file it listed was
 * gone by the time DuckDB opened it ({@link readRelisting}: the platform soak's recomputes met a
 * compaction's replaced files three times in a run, each one failing its job's attempt).
 */
function loadPassInput(ctx: BatchContext, conn: DuckDBSession['connection'], window: RecomputeWindow): Promise<RecomputeInput> {
  return readRelisting(() => loadListedPassInput(ctx, conn, window), () => dropRecomputeInput(conn));
}

/**
 * A pass's input, its converting users' context from the touchpoint verdicts when every hour of
 * it has current ones, else from the archive. Verdicts that vanish while being read (a newer
 * version of their hour switched in and pruned them) are looked up again once: the newer
 * version's are current too.
 */
async function loadListedPassInput(ctx: BatchContext, conn: DuckDBSession['connection'], window: RecomputeWindow): Promise<RecomputeInput> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const verdictFiles = await currentVerdictFiles(ctx, window.contextFrom, window.from);
    if (verdictFiles === null) break;
    try {
      return await loadRecomputeInput(conn, ctx.archive, window, ctx.settings, verdictFiles);
    } catch (err) {
      if (!(err instanceof VerdictReadError)) throw err;
      await dropRecomputeInput(conn);
    }
  }
  return loadRecomputeInput(conn, ctx.archive, window, ctx.settings);
}

function contextOf(input: RecomputeHoursOptions): BatchContext {
  if (!input.config || !input.redis) throw new InvalidJobDataError('recomputeHours needs a context or a config and a Redis client');
  return createBatchContext(input.config, input.redis);
}
