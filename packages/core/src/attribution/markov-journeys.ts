import { compareCodePoints } from '../ordering/event-order.js';
import type { MarkovPath } from './markov.js';

/**
 * The definition the Markov chain is trained under (DESIGN.md, Markov): customer journeys cut at
 * each conversion with the attribution lookback. A published model names it, so a served figure
 * can be traced to it.
 */
export const markovDefinition = 'journeys-v1';

/** A user's valid touchpoint (its channel) or valid conversion in the training period. */
export type JourneyEvent =
  | { readonly ts: number; readonly event_id: string; readonly kind: 'touchpoint'; readonly channel: string }
  | { readonly ts: number; readonly event_id: string; readonly kind: 'conversion' };

/** Orders a user's events by (ts, event_id), as attribution orders paths. */
export function compareJourneyEvents(a: JourneyEvent, b: JourneyEvent): number {
  return a.ts - b.ts || compareCodePoints(a.event_id, b.event_id);
}

/**
 * Cuts one user's valid touchpoints and conversions (any order; sorted here by (ts, event_id))
 * into journeys: each conversion at t ends one, holding the touchpoints in [t - lookbackMs, t]
 * that come after the user's previous conversion; the touchpoints after the last conversion
 * (all of them for a user who never converted) form one journey that ends unconverted.
 * Journeys without touchpoints are left out. Channels keep their order, repeats included.
 */
export function markovJourneys(events: readonly JourneyEvent[], lookbackMs: number): MarkovPath[] {
  const sorted = [...events].sort(compareJourneyEvents);
  const journeys: MarkovPath[] = [];
  let open: { ts: number; channel: string }[] = [];
  for (const event of sorted) {
    if (event.kind === 'touchpoint') {
      open.push({ ts: event.ts, channel: event.channel });
      continue;
    }
    const channels = open.filter((tp) => tp.ts >= event.ts - lookbackMs).map((tp) => tp.channel);
    if (channels.length > 0) journeys.push({ channels, converted: true });
    open = [];
  }
  if (open.length > 0) journeys.push({ channels: open.map((tp) => tp.channel), converted: false });
  return journeys;
}
