/**
 * The one total order of events every rule uses: by event time, then by `event_id`.
 * Both layers must order identically, so the string order is defined here once.
 */

/** The ordering key of an event: its event time and id. */
export interface EventKey {
  readonly ts: number;
  readonly event_id: string;
}

/**
 * Compares two strings by Unicode code point. This equals UTF-8 byte order, which is how
 * DuckDB sorts VARCHAR by default; JavaScript's `<` compares UTF-16 code units and differs
 * from it for characters outside the Basic Multilingual Plane.
 */
export function compareCodePoints(a: string, b: string): number {
  // Equal keys are common in sorts by tuple (a page's or campaign's rows): V8 compares them
  // natively (the same dictionary string at once), not one character at a time.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800-DFFF) encode code points above U+FFFF, so they sort after U+E000-FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Orders events by (ts, event_id): negative when `a` comes first. */
export function compareEventKeys(a: EventKey, b: EventKey): number {
  return a.ts - b.ts || compareCodePoints(a.event_id, b.event_id);
}

/** Orders events by (user_id, ts, event_id), the batch layer's scan order. */
export function compareUserEventOrder(
  a: EventKey & { readonly user_id: string },
  b: EventKey & { readonly user_id: string },
): number {
  return compareCodePoints(a.user_id, b.user_id) || compareEventKeys(a, b);
}

/**
 * Inserts `item` into `list` (sorted by {@link compareEventKeys}) in place, keeping it sorted.
 * An item whose `event_id` and `ts` are already present is not added twice (replays are idempotent).
 * Returns false when it was already present.
 */
export function insertByEventKey<T extends EventKey>(list: T[], item: T): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEventKeys(list[mid] as T, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  const at = list[lo];
  if (at !== undefined && compareEventKeys(at, item) === 0) return false;
  // In-order input appends; a push allocates nothing (a splice returns a new, empty array).
  if (lo === list.length) list.push(item);
  else list.splice(lo, 0, item);
  return true;
}
