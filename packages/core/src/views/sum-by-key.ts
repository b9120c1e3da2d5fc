import { compareCodePoints } from '../ordering/event-order.js';

/** A row whose fields a fold may update in place (its running total is its own copy). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A row's identity: the tuple of its key fields (numbers and strings). */
export type KeyTuple = readonly (string | number)[];

function compareTuples(a: KeyTuple, b: KeyTuple): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareCodePoints(String(x), String(y));
    if (c !== 0) return c;
  }
  return 0;
}

/** Joins key parts into one Map key; ids never hold control characters (the event contract). */
const SEPARATOR = '\u0001';

/**
 * Rows whose keys are distinct (each already a sum), in the order {@link sumByKey} gives its
 * totals: what a caller that summed by the same key itself needs from a fold.
 */
export function sortByKey<T>(rows: readonly T[], keyOf: (row: T) => KeyTuple): T[] {
  return rows
    .map((row) => ({ key: keyOf(row), row }))
    .sort((a, b) => compareTuples(a.key, b.key))
    .map((e) => e.row);
}

/**
 * One windowed view's sums as an accumulator (Beam's CombineFn: create, add, merge, extract),
 * the one definition of the view's key and summed fields both layers use: the speed layer folds
 * a round's rows with {@link sumRows}, the batch layer keeps running totals of a pass indexed by
 * `parts` and orders them by `key` at the end. Merging two totals is `add` of one into the other.
 */
export interface ViewSums<R extends { readonly windowStart: number }> {
  /** The row's key, in the view's canonical order (what the folds sort by). */
  readonly key: (row: R) => KeyTuple;
  /**
   * The key's parts besides the window start, written into `into` (2 or 3 of them, `partCount`),
   * each a string or a small number: an index of totals needs no tuple per row.
   */
  readonly parts: (row: R, into: unknown[]) => void;
  readonly partCount: 2 | 3;
  /** A new running total holding `row` (its own copy, of the view's fields only). */
  readonly create: (row: R) => Mutable<R>;
  /** Adds a row, or another total, into `total`. */
  readonly add: (total: Mutable<R>, row: R) => void;
}

/**
 * Sums rows that share a key under `sums`; the output is sorted by key, so both layers produce
 * the same rows in the same order. Re-summing summed rows is a no-op.
 */
export function sumRows<R extends { readonly windowStart: number }>(sums: ViewSums<R>, rows: Iterable<R>): R[] {
  const totals = new Map<string, { key: KeyTuple; total: Mutable<R> }>();
  for (const row of rows) {
    const key = sums.key(row);
    const id = key.join(SEPARATOR);
    const current = totals.get(id);
    if (current) sums.add(current.total, row);
    else totals.set(id, { key, total: sums.create(row) });
  }
  return [...totals.values()].sort((a, b) => compareTuples(a.key, b.key)).map((e) => e.total);
}
