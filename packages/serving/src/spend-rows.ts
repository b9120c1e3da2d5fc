import { FIELD_SEPARATOR, spendFields } from '@sigflow/store';
import type { WindowedHashes } from '@sigflow/store/views';
import { bucketOf, bucketSource, bucketStartOf, forEachMergedField, type MergeOptions, type RowSource } from './merge-rule.js';

/** A campaign's spend in one channel and bucket, under the merge rule. */
export interface SpendRow {
  readonly start: number;
  readonly end: number;
  readonly channel: string;
  /** Cost of the valid touchpoints (micros). */
  readonly spendMicros: number;
  /** Cost of the invalid ones: refund claims (micros). */
  readonly invalidSpendMicros: number;
  /** Valid clicks. */
  readonly clicks: number;
  readonly source: RowSource;
}

const column: Record<string, 'spendMicros' | 'invalidSpendMicros' | 'clicks'> = {
  [spendFields.spend]: 'spendMicros',
  [spendFields.invalidSpend]: 'invalidSpendMicros',
  [spendFields.clicks]: 'clicks',
};

/**
 * A campaign's spend per bucket and channel from its spend hashes (fields
 * `${windowStart}\t${channel}\t${metric}`) under the merge rule; only buckets with data, by start
 * then channel.
 */
export function spendRows(view: WindowedHashes, options: MergeOptions): SpendRow[] {
  const rows = new Map<string, { start: number; end: number; channel: string; spendMicros: number; invalidSpendMicros: number; clicks: number }>();
  forEachMergedField(view, options.range, options.windowMs, (windowStart, rest, value) => {
    const tab = rest.lastIndexOf(FIELD_SEPARATOR);
    const name = column[rest.slice(tab + 1)];
    if (tab < 0 || name === undefined) return;
    const channel = rest.slice(0, tab);
    const start = bucketStartOf(windowStart, options.granularity, options.range);
    const id = `${start}${FIELD_SEPARATOR}${channel}`;
    let row = rows.get(id);
    if (!row) {
      const { end } = bucketOf(windowStart, options.granularity, options.windowMs, options.range);
      rows.set(id, (row = { start, end, channel, spendMicros: 0, invalidSpendMicros: 0, clicks: 0 }));
    }
    row[name] += value;
  });
  return [...rows.values()]
    .map((r) => ({ ...r, source: bucketSource(r, options.range, options.windowMs, options.watermark) }))
    .sort((a, b) => a.start - b.start || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
}
