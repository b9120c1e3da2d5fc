import type { Touchpoint } from '../touchpoint.js';

/**
 * position_based (U-shaped): 40 % first, 40 % last, the middle 20 % split equally over the
 * touchpoints between them; a single touchpoint gets 100 %, two get 50/50.
 */
export function positionBasedFractions(path: readonly Touchpoint[]): number[] {
  const n = path.length;
  if (n === 1) return [1];
  if (n === 2) return [0.5, 0.5];
  return path.map((_, i) => (i === 0 || i === n - 1 ? 0.4 : 0.2 / (n - 2)));
}
