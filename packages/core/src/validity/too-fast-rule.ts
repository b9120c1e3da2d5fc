import type { RuleSettings } from '../rule-settings.js';
import type { JoinImpression } from '../join/impression-click-join.js';

/**
 * Rule 4, `too_fast`: a click less than `tooFastMs` (1 s) after the latest valid impression of
 * the same user and ad (the one `findJoinImpression` returns). Exactly 1000 ms is human.
 */
export function isTooFastClick(clickTs: number, joined: JoinImpression | null, settings: RuleSettings): boolean {
  return joined !== null && clickTs - joined.ts < settings.tooFastMs;
}
