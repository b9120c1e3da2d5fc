import type { Touchpoint } from '../touchpoint.js';

/** linear: equal credit to every touchpoint of the (non-empty) path. */
export function linearFractions(path: readonly Touchpoint[]): number[] {
  return path.map(() => 1 / path.length);
}
