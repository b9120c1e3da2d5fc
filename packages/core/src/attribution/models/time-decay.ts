import type { Touchpoint } from '../touchpoint.js';
import { normalize } from '../touchpoint.js';

/**
 * time_decay: weight 2^(-(t - ts) / halfLife) per touchpoint, normalized to sum to 1, where t is
 * the conversion time. A touchpoint one half-life before the conversion weighs half one at t.
 */
export function timeDecayFractions(path: readonly Touchpoint[], conversionTs: number, halfLifeMs: number): number[] {
  return normalize(path.map((tp) => 2 ** (-(conversionTs - tp.ts) / halfLifeMs)));
}
