import type { Touchpoint } from '../touchpoint.js';

/** first_touch: all credit to the first touchpoint of the (non-empty, ordered) path. */
export function firstTouchFractions(path: readonly Touchpoint[]): number[] {
  return path.map((_, i) => (i === 0 ? 1 : 0));
}
