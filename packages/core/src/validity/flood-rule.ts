import type { RuleSettings } from '../rule-settings.js';
import { compareEventKeys, insertByEventKey, type EventKey } from '../ordering/event-order.js';

/**
 * Rule 2, `flood`: a click is the (threshold + 1)-th or later among the clicks of the same key
 * (user, or IP) with ts in [t - floodWindow, t], ordered by (ts, event_id). So with the default
 * threshold 10 the 11th click in 60 s is a flood. `recentClicks` are the key's earlier clicks;
 * only those ordered before `click` count, so the verdict does not depend on clicks that come
 * after it in (ts, event_id) order, even if they were seen first.
 */
export function isFloodClick(recentClicks: readonly EventKey[], click: EventKey, settings: RuleSettings): boolean {
  const from = click.ts - settings.floodWindowMs;
  let prior = 0;
  for (const k of recentClicks) {
    if (k.ts >= from && compareEventKeys(k, click) < 0) prior++;
  }
  return prior >= settings.floodThreshold;
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
 * The flood verdicts of one IP's clicks in the batch layer: sorts `clicks` by
 * (partition, ip, ts, event_id) and returns the ids of the clicks that are IP floods.
 * IP flood state lives per Kafka partition in the speed layer (key = user_id, so one IP's
 * users may be spread over partitions); pass `partition` to get the same verdicts, or omit it
 * to count an IP across the whole input. Clicks without an IP are never IP floods.
 */
export function floodedIpClicks(
  clicks: readonly (EventKey & { readonly ip?: string | undefined; readonly partition?: number | undefined })[],
  settings: RuleSettings,
): Set<string> {
  const byIp = new Map<string, EventKey[]>();
  for (const c of clicks) {
    if (c.ip === undefined) continue;
    const key = `${c.partition ?? ''}\u0000${c.ip}`;
    let list = byIp.get(key);
    if (!list) byIp.set(key, (list = []));
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
