import type { SegmentSizeWindow } from '@sigflow/store/segments-alerts';
import { bucketOf, type Granularity, type RowSource } from './merge-rule.js';

/** A segment's size over one bucket: members at its end, entries and exits in it. */
export interface SegmentSizeRow {
  readonly start: number;
  readonly end: number;
  /** Members at the end of the bucket's last window. */
  readonly size: number;
  readonly entered: number;
  readonly left: number;
  readonly source: RowSource;
}

/**
 * Buckets a segment's per-window sizes (`readSegmentSizes`, in window order) by minute, hour or
 * day: the size is the one at the bucket's last window (a size is a level, not a sum), entries
 * and exits are summed; a bucket with windows from both layers says `mixed`.
 */
export function segmentSizeRows(windows: readonly SegmentSizeWindow[], granularity: Exclude<Granularity, 'total'>, windowMs: number, range: { from: number; to: number }): SegmentSizeRow[] {
  const rows: SegmentSizeRow[] = [];
  let row: { -readonly [K in keyof SegmentSizeRow]: SegmentSizeRow[K] } | undefined;
  for (const w of windows) {
    const { start, end } = bucketOf(w.windowStart, granularity, windowMs, range);
    if (!row || row.start !== start) {
      row = { start, end, size: w.size, entered: 0, left: 0, source: w.source };
      rows.push(row);
    }
    row.size = w.size;
    row.entered += w.entered;
    row.left += w.left;
    if (row.source !== w.source) row.source = 'mixed';
  }
  return rows;
}
