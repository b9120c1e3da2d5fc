import { tombstoneHash } from '@sigflow/privacy';
import { recordTombstone, tombstoneRecord } from '@sigflow/store/ops';
import type { BatchContext } from './batch-context.js';
import { eraseFromArchive } from './archive-erasure.js';
import type { DuckDBSession } from './duckdb-session.js';
import { contiguousRanges, HOUR_MS } from './hour-range.js';
import { recomputeHours } from './recompute-hours.js';
import { eraseSpeedState, type SpeedErasure } from './speed-erasure.js';

/** The steps of a deletion, in order. */
export const deletionSteps = ['tombstone', 'speed', 'archive', 'recompute'] as const;
export type DeletionStep = (typeof deletionSteps)[number] | 'done';

/** A deletion's progress, as its job reports it (never the person's id). */
export interface DeletionProgress {
  readonly step: DeletionStep;
  readonly stepsDone: number;
  readonly stepsTotal: number;
  readonly percent: number;
  /** Archive files found holding the person's rows in the current pass, and rewritten of them. */
  readonly filesWithRows: number;
  readonly filesDone: number;
  /**
   * Hours whose archive files changed, and the computed hours the person's clicks reached through
   * other people's IP floods (kept across attempts: they are recomputed).
   */
  readonly hours: readonly number[];
  readonly hoursRecomputed: number;
}

/** The outcome of a deletion (no id in it). */
export interface DeletionResult {
  readonly speed: SpeedErasure;
  readonly filesRewritten: number;
  readonly filesRemoved: number;
  readonly rowsRemoved: number;
  /** The hours of {@link DeletionProgress.hours}, all recomputed (with the hours between two of them less than a pass apart). */
  readonly hours: number[];
  readonly passes: number;
}

export interface DeleteUserOptions {
  readonly context: BatchContext;
  readonly userId: string;
  /** The request (job) id, recorded with the speed erasure request. */
  readonly requestId: string;
  readonly duckdb: DuckDBSession;
  /** Hours an earlier attempt changed (from its progress): recomputed too. */
  readonly previousHours?: readonly number[];
  readonly onProgress?: (progress: DeletionProgress) => void | Promise<void>;
  readonly now?: () => number;
}

/**
 * The ranges that recompute `hours`: runs of consecutive hours, joined across gaps shorter than a
 * recompute pass (one DuckDB pass over a few hours more costs less than one pass each, every
 * pass reading the attribution lookback before it).
 */
function recomputeRanges(hours: readonly number[], hoursPerPass: number): { from: number; to: number }[] {
  const joined: { from: number; to: number }[] = [];
  for (const r of contiguousRanges(hours)) {
    const last = joined.at(-1);
    if (last && r.from - last.to < hoursPerPass * HOUR_MS) last.to = r.to;
    else joined.push({ ...r });
  }
  return joined;
}

/**
 * Deletes a person (DESIGN.md "Data lifecycle"): records the tombstone (a salted hash; kept if
 * there is one), has the speed state erased ({@link eraseSpeedState}), removes their rows from
 * every archive file ({@link eraseFromArchive}) and recomputes the hours whose files changed.
 * Every step is idempotent, so an attempt that died anywhere is completed by the next one with
 * the same result.
 */
export async function deleteUser(options: DeleteUserOptions): Promise<DeletionResult> {
  const { context: ctx, userId, duckdb } = options;
  const now = options.now ?? Date.now;
  const hours = new Set(options.previousHours ?? []);
  let state: DeletionProgress = { step: 'tombstone', stepsDone: 0, stepsTotal: deletionSteps.length, percent: 0, filesWithRows: 0, filesDone: 0, hours: [...hours], hoursRecomputed: 0 };
  const report = async (change: Partial<DeletionProgress>) => {
    state = { ...state, ...change };
    const within = state.step === 'archive' && state.filesWithRows > 0 ? state.filesDone / state.filesWithRows : 0;
    state = { ...state, percent: Math.round(((state.stepsDone + within) / state.stepsTotal) * 1000) / 10 };
    await options.onProgress?.(state);
  };
  await report({});
  const hash = tombstoneHash(ctx.config.privacy.salt, userId);
  const at = now();
  await recordTombstone(ctx.redis, ctx.keys, hash, at, ctx.config.limits.retentionMs);
  await ctx.ops.record([tombstoneRecord(hash, at)]);
  await report({ step: 'speed', stepsDone: 1 });
  const speed = await eraseSpeedState(ctx, userId, options.requestId);
  await report({ step: 'archive', stepsDone: 2 });
  const archive = await eraseFromArchive(ctx, duckdb, userId, async (p) => {
    for (const h of p.hours) hours.add(h);
    await report({ filesWithRows: p.filesWithRows, filesDone: p.filesDone, hours: [...hours].sort((a, b) => a - b) });
  });
  await report({ step: 'recompute', stepsDone: 3 });
  let recomputed = 0;
  for (const range of recomputeRanges([...hours], ctx.config.batch.hoursPerPass)) {
    await recomputeHours({ context: ctx, from: range.from, to: range.to, duckdb, computedBy: `privacy:${options.requestId}` });
    recomputed += (range.to - range.from) / HOUR_MS;
    await report({ hoursRecomputed: recomputed });
  }
  await report({ step: 'done', stepsDone: 4 });
  return {
    speed,
    filesRewritten: archive.filesRewritten,
    filesRemoved: archive.filesRemoved,
    rowsRemoved: archive.rowsRemoved,
    hours: [...hours].sort((a, b) => a - b),
    passes: archive.passes,
  };
}
