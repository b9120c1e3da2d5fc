import type { Touchpoint } from '../touchpoint.js';

/** last_touch: all credit to the last touchpoint of the (non-empty, ordered) path. */
export function lastTouchFractions(path: readonly Touchpoint[]): number[] {
  return path.map((_, i) => (i === path.length - 1 ? 1 : 0));
}
