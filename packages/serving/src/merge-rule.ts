import { HOUR_MS } from '@sigflow/core';
import { FIELD_SEPARATOR, fieldParts } from '@sigflow/store';
import { forEachField, type HourLayersOf, type TimeRange, type WindowedHashes } from '@sigflow/store/views';

/**
 * The serving merge rule (DESIGN.md "Serving merge rule") as pure functions over the raw hash
 * contents the store's readers return. No I/O here, so the rule is unit-tested without Redis.
 *
 * - A query range [from, to) selects the windows whose *start* lies in it.
 * - A window [ws, ws + windowMs) comes from the batch views when ws + windowMs <= the batch
 *   watermark (from the version `batchHours()` names for its hour; an hour below the watermark
 *   without a version has no rows), otherwise from the speed views.
 * - Aggregating windows into hour/day/total buckets sums them; a bucket whose windows are all
 *   batch says `batch`, all speed `speed`, both `mixed`. The source of a bucket depends only on
 *   which windows it covers and the watermark, never on which windows happen to have data.
 */

/** Where a window's numbers come from. */
export type ViewSource = 'batch' | 'speed';
/** Where a bucket's numbers come from: `mixed` when its windows straddle the batch watermark. */
export type RowSource = ViewSource | 'mixed';
/** Bucket size of an aggregated answer; `minute` is the tumbling window (`rules.windowMs`). */
export type Granularity = 'minute' | 'hour' | 'day' | 'total';

export const DAY_MS = 86_400_000;

/** The source of one window under the merge rule; no watermark (batch never ran) = speed. */
export function windowSource(windowStart: number, windowMs: number, watermark: number | null): ViewSource {
  return watermark !== null && windowStart + windowMs <= watermark ? 'batch' : 'speed';
}

/**
 * Which layers the windows starting in an hour need under {@link windowSource}, for the store's
 * readers (`readWindowedView`), which read only those hashes: the speed layer's when the hour's
 * last window is speed's, the batch layer's when its first window is batch's.
 */
export function hourLayers(windowMs: number): HourLayersOf {
  return (hour, watermark) => ({
    speed: windowSource(Math.floor((hour + HOUR_MS - 1) / windowMs) * windowMs, windowMs, watermark) === 'speed',
    batch: windowSource(Math.floor(hour / windowMs) * windowMs, windowMs, watermark) === 'batch',
  });
}

/** One field of a windowed hash, chosen by the merge rule. */
export interface MergedCell {
  readonly windowStart: number;
  /** The field parts after the window start, e.g. [adId, metric]. */
  readonly parts: readonly string[];
  readonly value: number;
  readonly source: ViewSource;
}

/**
 * Applies the merge rule: of each window starting in `range`, the fields of the layer that
 * serves it. Fields of the other layer for the same window are ignored.
 */
export function mergedCells(view: WindowedHashes, range: TimeRange, windowMs: number): MergedCell[] {
  const cells: MergedCell[] = [];
  forEachMergedField(view, range, windowMs, (windowStart, rest, value, source) => {
    cells.push({ windowStart, parts: fieldParts(rest), value, source });
  });
  return cells;
}

/**
 * The merge rule as a loop without allocations: `fn` gets, for each field of the layer serving
 * its window, the window start, the field after it (e.g. `adId\tmetric`), the value and the source.
 */
export function forEachMergedField(
  view: WindowedHashes,
  range: TimeRange,
  windowMs: number,
  fn: (windowStart: number, rest: string, value: number, source: ViewSource) => void,
): void {
  for (const hour of view.hours) {
    for (const [source, hash] of [
      ['speed', hour.speed],
      ['batch', hour.batch],
    ] as const) {
      if (!hash) continue;
      forEachField(hash, (f, v) => {
        const tab = f.indexOf(FIELD_SEPARATOR);
        const windowStart = Number(tab < 0 ? f : f.slice(0, tab));
        if (!(windowStart >= range.from && windowStart < range.to)) return;
        if (windowSource(windowStart, windowMs, view.watermark) !== source) return;
        const value = Number(v);
        if (!Number.isFinite(value)) return;
        fn(windowStart, tab < 0 ? '' : f.slice(tab + 1), value, source);
      });
    }
  }
}

/** Start and end of the bucket holding the window starting at `windowStart`. */
export function bucketOf(windowStart: number, granularity: Granularity, windowMs: number, range: TimeRange): { start: number; end: number } {
  const start = bucketStartOf(windowStart, granularity, range);
  switch (granularity) {
    case 'minute':
      return { start, end: start + windowMs };
    case 'hour':
      return { start, end: start + HOUR_MS };
    case 'day':
      return { start, end: start + DAY_MS };
    case 'total':
      return { start, end: range.to };
  }
}

/** The start of the bucket holding a window (no allocation; see {@link bucketOf}). */
export function bucketStartOf(windowStart: number, granularity: Granularity, range: TimeRange): number {
  switch (granularity) {
    case 'minute':
      return windowStart;
    case 'hour':
      return Math.floor(windowStart / HOUR_MS) * HOUR_MS;
    case 'day':
      return Math.floor(windowStart / DAY_MS) * DAY_MS;
    case 'total':
      return range.from;
  }
}

/**
 * The source of a bucket [start, end) restricted to `range`: from the first and last window
 * starting in it. A bucket with no window in the range is `speed` (it cannot occur in answers).
 */
export function bucketSource(
  bucket: { start: number; end: number },
  range: TimeRange,
  windowMs: number,
  watermark: number | null,
): RowSource {
  const lo = Math.max(bucket.start, range.from);
  const hi = Math.min(bucket.end, range.to);
  const first = Math.ceil(lo / windowMs) * windowMs;
  const last = Math.floor((hi - 1) / windowMs) * windowMs;
  if (first > last) return 'speed';
  const a = windowSource(first, windowMs, watermark);
  const b = windowSource(last, windowMs, watermark);
  return a === b ? a : 'mixed';
}

/** What an aggregated answer is merged at: range, bucket size, window length, watermark. */
export interface MergeOptions {
  readonly range: TimeRange;
  readonly granularity: Granularity;
  readonly windowMs: number;
  readonly watermark: number | null;
}
