import type { BatchContext } from './batch-context.js';
import type { DuckDBSession } from './duckdb-session.js';
import { contiguousRanges } from './hour-range.js';
import { switchHours } from './publish-version.js';
import { recomputeHours, type JobProgress, type RecomputedHour, type RecomputeResult } from './recompute-hours.js';

export interface RecomputeDirtyResult {
  /** Dirty hours found (before the per-run cap). */
  readonly dirty: number;
  readonly hours: RecomputedHour[];
  readonly rowsRead: number;
  readonly ranges: { from: number; to: number }[];
}

/**
 * The scheduled job: recomputes the dirty hours (oldest first, at most `maxDirtyHoursPerRun`),
 * one pass per run of consecutive hours, then (even when none is dirty) moves the batch
 * watermark forward as sealing advances.
 */
export async function recomputeDirtyHours(options: {
  context: BatchContext;
  computedBy?: string;
  duckdb?: DuckDBSession;
  onProgress?: (progress: JobProgress) => void | Promise<void>;
  now?: () => number;
}): Promise<RecomputeDirtyResult> {
  const ctx = options.context;
  const now = options.now ?? Date.now;
  const members = (await ctx.redis.zrange(ctx.keys.dirtyHours(), 0, -1)).map(Number).filter(Number.isFinite);
  const dirty = members.sort((a, b) => a - b);
  const picked = dirty.slice(0, ctx.config.batch.maxDirtyHoursPerRun);
  const ranges = contiguousRanges(picked);
  if (ranges.length === 0) {
    await switchHours(ctx, now(), [], now());
    await options.onProgress?.({ hoursDone: 0, hoursTotal: 0, rowsRead: 0, percent: 100 });
    return { dirty: 0, hours: [], rowsRead: 0, ranges };
  }
  const hoursTotal = picked.length;
  let hoursDone = 0;
  let rowsRead = 0;
  const hours: RecomputedHour[] = [];
  for (const range of ranges) {
    const base = hoursDone;
    const baseRows = rowsRead;
    const result: RecomputeResult = await recomputeHours({
      context: ctx,
      from: range.from,
      to: range.to,
      computedBy: options.computedBy,
      duckdb: options.duckdb,
      now,
      onProgress: (p) =>
        options.onProgress?.({
          hoursDone: base + p.hoursDone,
          hoursTotal,
          rowsRead: baseRows + p.rowsRead,
          percent: Math.round(((base + (p.percent / 100) * p.hoursTotal) / hoursTotal) * 1000) / 10,
        }),
    });
    hoursDone += result.hours.length;
    rowsRead += result.rowsRead;
    hours.push(...result.hours);
  }
  return { dirty: dirty.length, hours, rowsRead, ranges };
}
