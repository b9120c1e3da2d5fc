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
 * Sums rows that share a key: `keyOf` names the key, `add` folds a row into the running total
 * (a fresh copy of the first row, which `add` may update in place). Output is sorted by key, so
 * both layers produce the same rows in the same order. Internal helper of the view folds.
 */
export function sumByKey<T extends object>(rows: Iterable<T>, keyOf: (row: T) => KeyTuple, add: (total: T, row: T) => T): T[] {
  const totals = new Map<string, { key: KeyTuple; total: T }>();
  for (const row of rows) {
    const key = keyOf(row);
    const id = key.join(SEPARATOR);
    const current = totals.get(id);
    if (current) current.total = add(current.total, row);
    else totals.set(id, { key, total: { ...row } });
  }
  return [...totals.values()].sort((a, b) => compareTuples(a.key, b.key)).map((e) => e.total);
}
