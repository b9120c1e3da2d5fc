/** A click as the flood rule sees it. */
export interface FloodClick {
  readonly ts: number;
  readonly eventId: string;
  readonly userId: string;
  /** Clicks without an IP are never IP floods. */
  readonly ip: string | undefined;
}

function byTsThenId(a: FloodClick, b: FloodClick): number {
  return a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/**
 * The flood rule of DESIGN.md, computed for the truth file apart from `packages/core`: over
 * every click given (whatever its Kafka partition), ordered by (ts, event_id), a click is a
 * flood when at least `threshold` earlier clicks of the same user, or of the same IP, have a
 * ts in [ts - windowMs, ts]. Returns one flag per click (1 = flood), in the order given.
 */
export function floodFlags(clicks: readonly FloodClick[], threshold: number, windowMs: number): Uint8Array {
  const order = clicks.map((_, i) => i).sort((a, b) => byTsThenId(clicks[a] as FloodClick, clicks[b] as FloodClick));
  const flags = new Uint8Array(clicks.length);
  for (const keyOf of [(c: FloodClick) => c.userId, (c: FloodClick) => c.ip]) {
    const groups = new Map<string, number[]>();
    for (const i of order) {
      const key = keyOf(clicks[i] as FloodClick);
      if (key === undefined) continue;
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(i);
    }
    for (const list of groups.values()) flagCrowded(clicks, list, threshold, windowMs, flags);
  }
  return flags;
}

/** Flags the clicks of one key (indices in rule order) that have `threshold` earlier ones within the window. */
function flagCrowded(clicks: readonly FloodClick[], list: readonly number[], threshold: number, windowMs: number, flags: Uint8Array): void {
  let from = 0;
  for (let j = 0; j < list.length; j++) {
    const ts = (clicks[list[j] as number] as FloodClick).ts;
    while ((clicks[list[from] as number] as FloodClick).ts < ts - windowMs) from++;
    if (j - from >= threshold) flags[list[j] as number] = 1;
  }
}
