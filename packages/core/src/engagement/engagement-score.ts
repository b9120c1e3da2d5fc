import type { EventType } from '@sigflow/events';

/** Engagement weight per event type (DESIGN.md); types not listed weigh 0. */
export const engagementWeights: Readonly<Record<EventType, number>> = Object.freeze({
  impression: 0.1,
  click: 1,
  page_view: 0.5,
  scroll: 0.2,
  element_click: 0.5,
  form_interaction: 2,
  conversion: 5,
  link_follow: 0,
  // Product actions and identity records weigh nothing (DESIGN.md lists no weight for them).
  track: 0,
  identify: 0,
  alias: 0,
  group: 0,
  mouse_move: 0,
});

/**
 * Lazily decayed engagement: the score as of `asOf` (ms). score(now) = sum of
 * w(type) * 2^(-(now - ts) / halfLife) over absorbed events = score * 2^(-(now - asOf) / halfLife).
 */
export interface EngagementState {
  score: number;
  asOf: number;
}

/** No engagement yet. */
export function createEngagement(): EngagementState {
  return { score: 0, asOf: 0 };
}

/**
 * Absorbs one event of weight `weight` at `ts`, in any order: an event older than `asOf` is
 * decayed to `asOf`; a newer one moves `asOf` forward. Returns a new state.
 */
export function absorbEngagement(state: EngagementState, ts: number, weight: number, halfLifeMs: number): EngagementState {
  if (weight === 0) return state;
  if (ts <= state.asOf) return { score: state.score + weight * 2 ** (-(state.asOf - ts) / halfLifeMs), asOf: state.asOf };
  return { score: state.score * 2 ** (-(ts - state.asOf) / halfLifeMs) + weight, asOf: ts };
}

/** {@link absorbEngagement} into `state` itself (the keyed state's own object; no allocation). */
export function absorbEngagementInPlace(state: EngagementState, ts: number, weight: number, halfLifeMs: number): void {
  if (weight === 0) return;
  if (ts <= state.asOf) {
    state.score += weight * 2 ** (-(state.asOf - ts) / halfLifeMs);
  } else {
    state.score = state.score * 2 ** (-(ts - state.asOf) / halfLifeMs) + weight;
    state.asOf = ts;
  }
}

/**
 * The score at `now`. The formula holds for any `now`; reading before `asOf` counts events
 * after `now` with weight > w (the definition sums every absorbed event).
 */
export function engagementAt(state: EngagementState, now: number, halfLifeMs: number): number {
  return state.score === 0 ? 0 : state.score * 2 ** (-(now - state.asOf) / halfLifeMs);
}
