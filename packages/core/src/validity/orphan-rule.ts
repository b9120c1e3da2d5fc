import type { JoinImpression } from '../join/impression-click-join.js';

/**
 * Rule 3, `orphan`: a click with no valid impression of the same user and ad in
 * [t - joinWindow, t]. `joined` is the result of `findJoinImpression` for the click.
 */
export function isOrphanClick(joined: JoinImpression | null): boolean {
  return joined === null;
}
