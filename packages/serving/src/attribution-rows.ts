import { FIELD_SEPARATOR } from '@sigflow/store';
import { bucketOf, bucketSource, type MergedCell, type MergeOptions, type RowSource } from './merge-rule.js';

export type AttributionGroupBy = 'channel' | 'campaign';

/** Attributed conversions (sum of credit fractions) and revenue of one bucket and group. */
export interface AttributionRow {
  readonly start: number;
  readonly end: number;
  /** The channel or the campaign id, after `groupBy` (`direct` / `none` for empty paths). */
  readonly key: string;
  readonly conversions: number;
  readonly revenue: number;
  readonly source: RowSource;
}

/**
 * Attribution per bucket and group from the merged cells of a model's attribution hashes
 * (fields `${windowStart}\t${campaignId}\t${channel}\t${c|r}`), sorted by start then key.
 */
export function attributionRowsOf(cells: readonly MergedCell[], options: MergeOptions & { readonly groupBy: AttributionGroupBy }): AttributionRow[] {
  const rows = new Map<string, { start: number; end: number; key: string; conversions: number; revenue: number }>();
  for (const cell of cells) {
    const [campaign, channel, kind] = cell.parts;
    if (campaign === undefined || channel === undefined || (kind !== 'c' && kind !== 'r')) continue;
    const key = options.groupBy === 'channel' ? channel : campaign;
    const { start, end } = bucketOf(cell.windowStart, options.granularity, options.windowMs, options.range);
    const id = `${start}${FIELD_SEPARATOR}${key}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { start, end, key, conversions: 0, revenue: 0 }));
    if (kind === 'c') row.conversions += cell.value;
    else row.revenue += cell.value;
  }
  return [...rows.values()]
    .map((r) => ({ ...r, source: bucketSource(r, options.range, options.windowMs, options.watermark) }))
    .sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
