import type { BatchContext } from './batch-context.js';
import type { DuckDBSession } from './duckdb-session.js';
import { contiguousRanges, HOUR_MS } from './hour-range.js';
import { switchHours } from './publish-version.js';
import { recomputeHours, type JobProgress, type RecomputedHour, type RecomputeResult } from './recompute-hours.js';

export interface RecomputeDirtyResult {
  /** Dirty hours found (before the per-run cap). */
  readonly dirty: number;
  readonly hours: RecomputedHour[];
  readonly rowsRead: number;
  readonly ranges: { from: number; to: number }[];
  /** Hours marked dirty during the job because a late file made them stale (recomputed by it when the cap allowed). */
  readonly staleHoursMarked: number[];
}

/**
 * The scheduled job: recomputes the dirty hours, oldest first, at most `maxDirtyHoursPerRun`, one
 * pass per run of consecutive hours, then (even when none is dirty) moves the batch watermark
 * forward as sealing advances. The dirty set is read again after each run of hours: its
 * recompute may have marked later hours that a late file made stale (`markLateDependents`), and
 * they are recomputed in the same job. No hour is recomputed twice in one job (one that keeps
 * receiving files waits for the next).
 */
export async function recomputeDirtyHours(options: {
  context: BatchContext;
  computedBy?: string;
  duckdb?: DuckDBSession;
  onProgress?: (progress: JobProgress) => void | Promise<void>;
  /** As `RecomputeHoursOptions.signal`. */
  signal?: AbortSignal | undefined;
  now?: () => number;
}): Promise<RecomputeDirtyResult> {
  const ctx = options.context;
  const now = options.now ?? Date.now;
  const cap = ctx.config.batch.maxDirtyHoursPerRun;
  const done = new Set<number>();
  const hours: RecomputedHour[] = [];
  const ranges: { from: number; to: number }[] = [];
  let dirty: number | undefined;
  const staleHoursMarked = new Set<number>();
  let rowsRead = 0;
  for (;;) {
    const members = await dirtyHours(ctx);
    dirty ??= members.length;
    const left = members.filter((h) => !done.has(h)).slice(0, cap - done.size);
    const range = contiguousRanges(left)[0];
    if (!range) break;
    const base = done.size;
    const hoursTotal = done.size + left.length;
    const baseRows = rowsRead;
    const result: RecomputeResult = await recomputeHours({
      context: ctx,
      from: range.from,
      to: range.to,
      computedBy: options.computedBy,
      duckdb: options.duckdb,
      signal: options.signal,
      now,
      onProgress: (p) =>
        options.onProgress?.({
          hoursDone: base + p.hoursDone,
          hoursTotal,
          rowsRead: baseRows + p.rowsRead,
          percent: Math.round(((base + (p.percent / 100) * p.hoursTotal) / hoursTotal) * 1000) / 10,
        }),
    });
    for (let h = range.from; h < range.to; h += HOUR_MS) done.add(h);
    ranges.push(range);
    rowsRead += result.rowsRead;
    hours.push(...result.hours);
    for (const h of result.staleHoursMarked) staleHoursMarked.add(h);
  }
  if (ranges.length === 0) {
    await switchHours(ctx, now(), [], now());
    await options.onProgress?.({ hoursDone: 0, hoursTotal: 0, rowsRead: 0, percent: 100 });
  }
  return { dirty: dirty ?? 0, hours, rowsRead, ranges, staleHoursMarked: [...staleHoursMarked].sort((a, b) => a - b) };
}

/** The dirty hours, sorted. */
async function dirtyHours(ctx: BatchContext): Promise<number[]> {
  const members = (await ctx.redis.zrange(ctx.keys.dirtyHours(), 0, -1)).map(Number).filter(Number.isFinite);
  return members.sort((a, b) => a - b);
}
