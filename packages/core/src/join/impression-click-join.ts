import type { RuleSettings } from '../rule-settings.js';
import { compareEventKeys, insertByEventKey, type EventKey } from '../ordering/event-order.js';

/** A valid impression remembered for joining later clicks of the same user and ad. */
export interface JoinImpression extends EventKey {
  readonly campaign_id: string;
  readonly ad_id: string;
  readonly channel: string;
}

/** A click joined to its impression. */
export interface ClickJoin {
  readonly impression_event_id: string;
  readonly impression_ts: number;
  /** click ts - impression ts (>= 0). */
  readonly delay_ms: number;
}

/**
 * The impression-click join, the lookup the `orphan` and `too_fast` rules use: the latest valid
 * impression of the same user (the list is one user's) and ad with ts in [t - joinWindow, t]
 * that comes before the click in (ts, event_id) order. An impression with the click's ts and a
 * larger event_id comes after the click, as it does in the sorted stream. Null when none.
 */
export function findJoinImpression(
  impressions: readonly JoinImpression[],
  click: EventKey & { readonly ad_id: string },
  settings: RuleSettings,
): JoinImpression | null {
  const from = click.ts - settings.joinWindowMs;
  let best: JoinImpression | null = null;
  for (const imp of impressions) {
    if (imp.ad_id !== click.ad_id || imp.ts < from || compareEventKeys(imp, click) >= 0) continue;
    if (best === null || compareEventKeys(imp, best) > 0) best = imp;
  }
  return best;
}

/** The join record of a click and its impression (see {@link findJoinImpression}). */
export function joinOf(impression: JoinImpression, click: EventKey): ClickJoin {
  return { impression_event_id: impression.event_id, impression_ts: impression.ts, delay_ms: click.ts - impression.ts };
}

/**
 * Remembers a valid impression and trims the list (sorted by (ts, event_id)) in place: drops
 * impressions older than `keepFromTs`, keeps at most `perAdCap` per ad (the latest, which is
 * what the join needs for in-order input) and at most `cap` overall (the most recent). The list
 * met the caps before, so only the new impression's ad can exceed its cap.
 */
export function rememberImpression(
  impressions: JoinImpression[],
  impression: JoinImpression,
  keepFromTs: number,
  limits: { readonly perAdCap: number; readonly cap: number },
): void {
  insertByEventKey(impressions, impression);
  let old = 0;
  while (old < impressions.length && (impressions[old] as JoinImpression).ts < keepFromTs) old++;
  if (old > 0) impressions.splice(0, old);
  let sameAd = 0;
  for (let i = impressions.length - 1; i >= 0; i--) {
    if ((impressions[i] as JoinImpression).ad_id !== impression.ad_id) continue;
    if (++sameAd > limits.perAdCap) impressions.splice(i, 1);
  }
  if (impressions.length > limits.cap) impressions.splice(0, impressions.length - limits.cap);
}
