import { floodIpOf } from '@sigflow/events';
import type { RuleSettings } from '../rule-settings.js';
import { compareEventKeys, insertByEventKey, type EventKey } from '../ordering/event-order.js';

/**
 * How many of `recentClicks` count toward the flood verdict of `click`: those with ts in
 * [t - floodWindow, t] ordered before it by (ts, event_id). Clicks that come after it in that
 * order do not count, even if they were seen first.
 */
export function countFloodClicks(recentClicks: readonly EventKey[], click: EventKey, settings: RuleSettings): number {
  const from = click.ts - settings.floodWindowMs;
  let prior = 0;
  for (let i = recentClicks.length - 1; i >= 0; i--) {
    const k = recentClicks[i] as EventKey;
    if (k.ts < from) break; // sorted by (ts, event_id): every earlier one is older still
    if (compareEventKeys(k, click) < 0) prior++;
  }
  return prior;
}

/**
 * Rule 2, `flood`: a click is the (threshold + 1)-th or later among the clicks of the same key
 * (user, or IP) with ts in [t - floodWindow, t], ordered by (ts, event_id). So with the default
 * threshold 10 the 11th click in 60 s is a flood. `recentClicks` are the key's earlier clicks,
 * sorted by (ts, event_id) (see {@link countFloodClicks}).
 */
export function isFloodClick(recentClicks: readonly EventKey[], click: EventKey, settings: RuleSettings): boolean {
  return countFloodClicks(recentClicks, click, settings) >= settings.floodThreshold;
}

/**
 * Records a click for later flood decisions (every non-duplicate click counts, valid or not)
 * and trims the list: drops clicks older than `keepFromTs`, then keeps the `cap` most recent.
 * Keeping at least `floodThreshold` clicks makes the rule exact for in-order input, since only
 * the threshold-th previous click decides it.
 */
export function recordFloodClick(recentClicks: EventKey[], click: EventKey, keepFromTs: number, cap: number): void {
  insertByEventKey(recentClicks, { ts: click.ts, event_id: click.event_id });
  let drop = 0;
  while (drop < recentClicks.length && (recentClicks[drop] as EventKey).ts < keepFromTs) drop++;
  drop = Math.max(drop, recentClicks.length - cap);
  if (drop > 0) recentClicks.splice(0, drop);
}

/**
 * The IP half of the flood rule over a set of clicks, exactly as DESIGN.md defines it: per IP
 * over every Kafka partition (the users behind one IP land in different partitions), each IP's
 * clicks sorted by (ts, event_id). Returns the ids of the clicks that are IP floods. Clicks
 * without an IP are never IP floods. The batch layer feeds it each IP's clicks of the range
 * plus the flood window before it.
 */
export function floodedIpClicks(
  clicks: readonly (EventKey & { readonly ip?: string | undefined; readonly ip_key?: string | undefined })[],
  settings: RuleSettings,
): Set<string> {
  const byIp = new Map<string, EventKey[]>();
  for (const c of clicks) {
    // Truncated IP mode: the keyed hash of the full address, not the truncated one.
    const ip = floodIpOf(c);
    if (ip === undefined) continue;
    let list = byIp.get(ip);
    if (!list) byIp.set(ip, (list = []));
    list.push(c);
  }
  const flooded = new Set<string>();
  for (const list of byIp.values()) {
    list.sort(compareEventKeys);
    // A sliding window over the sorted clicks: same rule as isFloodClick, in O(n).
    let start = 0;
    list.forEach((c, i) => {
      while ((list[start] as EventKey).ts < c.ts - settings.floodWindowMs) start++;
      if (i - start >= settings.floodThreshold) flooded.add(c.event_id);
    });
  }
  return flooded;
}
