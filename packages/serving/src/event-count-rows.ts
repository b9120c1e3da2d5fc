import { parseCause } from '@sigflow/core';
import { FIELD_SEPARATOR } from '@sigflow/store';
import { bucketOf, bucketSource, type MergedCell, type MergeOptions, type RowSource } from './merge-rule.js';

/** Custom events of one name in one bucket: valid ones, and invalid ones by reason. */
export interface EventCountRow {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  readonly valid: number;
  readonly invalid: Record<string, number>;
  readonly source: RowSource;
}

/**
 * Custom event counts per bucket and name from the merged cells of the event-count hashes
 * (fields `${windowStart}\t${name}\t${valid|invalid:<reason>}`), sorted by start then name;
 * `names`, when given, keeps only those.
 */
export function eventCountRows(cells: readonly MergedCell[], options: MergeOptions & { readonly names?: ReadonlySet<string> | undefined }): EventCountRow[] {
  const rows = new Map<string, { start: number; end: number; name: string; valid: number; invalid: Record<string, number> }>();
  for (const cell of cells) {
    const [name, outcome] = cell.parts;
    if (name === undefined || outcome === undefined || (options.names && !options.names.has(name))) continue;
    const { start, end } = bucketOf(cell.windowStart, options.granularity, options.windowMs, options.range);
    const id = `${start}${FIELD_SEPARATOR}${name}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { start, end, name, valid: 0, invalid: {} }));
    const cause = parseCause(outcome);
    if (outcome === 'valid') row.valid += cell.value;
    else if (cause.kind === 'invalid') row.invalid[cause.reason] = (row.invalid[cause.reason] ?? 0) + cell.value;
  }
  return [...rows.values()]
    .map((r) => ({ ...r, source: bucketSource(r, options.range, options.windowMs, options.watermark) }))
    .sort((a, b) => a.start - b.start || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
