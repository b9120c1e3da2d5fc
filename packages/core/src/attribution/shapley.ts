import type { Touchpoint } from './touchpoint.js';
import { splitChannelCredit } from './touchpoint.js';
import { channelSetKey, distinctChannels } from './channel-set.js';
import { coalitionValue, type ShapleyTable } from './shapley-table.js';

/**
 * Paths touching more channels than this are not solved exactly (the cost is 2^n x n) and use
 * the equal split fallback instead, recorded as `too_many_channels`.
 */
export const maxShapleyChannels = 16;

/**
 * Why the equal split over channels was used instead of the Shapley values:
 * `no_table` (none published yet: the speed layer records version null) or `too_many_channels`.
 * A table whose clamped values all come out 0 also gives the equal split, but that is the
 * model's own rule, not a fallback.
 */
export type ShapleyFallback = 'no_table' | 'too_many_channels';

/**
 * phi_j = sum over T subset of C \ {j} of |T|! (|C| - |T| - 1)! / |C|! x (v(T + {j}) - v(T)),
 * for each channel j of the distinct channel set C. Raw values: may be negative.
 */
export function shapleyValues(channels: readonly string[], table: ShapleyTable): Map<string, number> {
  const c = distinctChannels(channels);
  const n = c.length;
  const factorial = [1];
  for (let i = 1; i <= n; i++) factorial.push((factorial[i - 1] as number) * i);
  // v of every subset, by bitmask over c.
  const v = new Float64Array(1 << n);
  for (let mask = 1; mask < 1 << n; mask++) {
    v[mask] = coalitionValue(table, channelSetKey(c.filter((_, i) => mask & (1 << i))));
  }
  const phi = new Map<string, number>();
  c.forEach((channel, j) => {
    const bit = 1 << j;
    let sum = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      if (mask & bit) continue;
      let size = 0;
      for (let m = mask; m; m &= m - 1) size++;
      const weight = ((factorial[size] as number) * (factorial[n - size - 1] as number)) / (factorial[n] as number);
      sum += weight * ((v[mask | bit] as number) - (v[mask] as number));
    }
    phi.set(channel, sum);
  });
  return phi;
}

/**
 * Credit per channel: max(phi_j, 0) / sum_k max(phi_k, 0), or the equal split over the path's
 * channels when that sum is 0, when no table is given (fallback `no_table`: linear by channel)
 * or when the path has more than {@link maxShapleyChannels} channels.
 */
export function shapleyChannelCredit(
  channels: readonly string[],
  table: ShapleyTable | null | undefined,
): { credit: Map<string, number>; fallback: ShapleyFallback | null } {
  const c = distinctChannels(channels);
  const equal = () => new Map(c.map((ch) => [ch, 1 / c.length]));
  if (!table) return { credit: equal(), fallback: 'no_table' };
  if (c.length > maxShapleyChannels) return { credit: equal(), fallback: 'too_many_channels' };
  const clamped = [...shapleyValues(c, table)].map(([ch, phi]) => [ch, Math.max(phi, 0)] as const);
  const total = clamped.reduce((s, [, p]) => s + p, 0);
  if (total <= 0) return { credit: equal(), fallback: null };
  return { credit: new Map(clamped.map(([ch, p]) => [ch, p / total])), fallback: null };
}

/** shapley: per-touchpoint fractions of a non-empty path; a channel's credit is split equally over its touchpoints. */
export function shapleyFractions(
  path: readonly Touchpoint[],
  table: ShapleyTable | null | undefined,
): { fractions: number[]; fallback: ShapleyFallback | null } {
  const { credit, fallback } = shapleyChannelCredit(
    path.map((tp) => tp.channel),
    table,
  );
  return { fractions: splitChannelCredit(path, credit), fallback };
}
