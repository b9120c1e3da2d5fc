import { compareCodePoints } from '../ordering/event-order.js';
import { distinctChannels } from './channel-set.js';
import { solveLinearSystem } from './linear-system.js';
import type { Touchpoint } from './touchpoint.js';
import { splitChannelCredit } from './touchpoint.js';

/** The chain's non-channel states; parentheses never occur in channel names. */
export const markovStates = Object.freeze({ start: '(start)', conversion: '(conversion)', null: '(null)' });

/** One user's path for training: channels of the valid touchpoints in order, and whether it converted. */
export interface MarkovPath {
  readonly channels: readonly string[];
  readonly converted: boolean;
}

/** An observed transition and its exact probability count / (transitions out of `from`). */
export interface MarkovTransition {
  readonly from: string;
  readonly to: string;
  readonly count: number;
  readonly probability: number;
}

/** A trained first-order Markov chain (JSON-serializable; batch layer only). */
export interface MarkovModel {
  /** Channels seen, sorted by code point. */
  readonly channels: readonly string[];
  /** Sorted by (from, to). */
  readonly transitions: readonly MarkovTransition[];
  /** P(reaching conversion from start). */
  readonly conversionProbability: number;
  /** Removal effect 1 - P(conversion | c removed) / P(conversion) per channel, sorted by channel. */
  readonly removalEffects: readonly { readonly channel: string; readonly effect: number }[];
}

/**
 * P(conversion from start) with the `removed` channels made into null (transitions into them
 * end the path unconverted), by solving the absorbing chain x = Q x + r exactly.
 */
export function conversionProbability(
  channels: readonly string[],
  transitions: readonly MarkovTransition[],
  removed: ReadonlySet<string> = new Set(),
): number {
  const transient = [markovStates.start, ...channels.filter((c) => !removed.has(c))];
  const index = new Map(transient.map((s, i) => [s, i]));
  const n = transient.length;
  const a = transient.map((_, i) => transient.map((__, j) => (i === j ? 1 : 0)));
  const r = transient.map(() => 0);
  for (const t of transitions) {
    const i = index.get(t.from);
    if (i === undefined) continue;
    if (t.to === markovStates.conversion) r[i] = (r[i] as number) + t.probability;
    const j = index.get(t.to);
    if (j !== undefined) (a[i] as number[])[j] = ((a[i] as number[])[j] as number) - t.probability;
  }
  return n === 0 ? 0 : (solveLinearSystem(a, r)[0] as number);
}

/**
 * Trains the chain: every path with at least one touchpoint is start -> c1 -> ... -> cn ->
 * conversion (converted) or null (not). Repeats of a channel are kept as self-transitions (an
 * exact first-order chain; they do not change absorption probabilities). Paths without
 * touchpoints are left out: such conversions are credited to `direct` and no channel can be
 * removed from them.
 */
export function trainMarkovChain(paths: Iterable<MarkovPath>): MarkovModel {
  const counts = new Map<string, Map<string, number>>();
  const add = (from: string, to: string) => {
    let row = counts.get(from);
    if (!row) counts.set(from, (row = new Map()));
    row.set(to, (row.get(to) ?? 0) + 1);
  };
  const seen = new Set<string>();
  for (const path of paths) {
    if (path.channels.length === 0) continue;
    let from: string = markovStates.start;
    for (const channel of path.channels) {
      seen.add(channel);
      add(from, channel);
      from = channel;
    }
    add(from, path.converted ? markovStates.conversion : markovStates.null);
  }
  const transitions: MarkovTransition[] = [];
  for (const [from, row] of counts) {
    const total = [...row.values()].reduce((a, b) => a + b, 0);
    for (const [to, count] of row) transitions.push({ from, to, count, probability: count / total });
  }
  transitions.sort((x, y) => compareCodePoints(x.from, y.from) || compareCodePoints(x.to, y.to));
  const channels = distinctChannels(seen);
  const base = conversionProbability(channels, transitions);
  const removalEffects = channels.map((channel) => ({
    channel,
    effect: base > 0 ? 1 - conversionProbability(channels, transitions, new Set([channel])) / base : 0,
  }));
  return { channels, transitions, conversionProbability: base, removalEffects };
}

/**
 * markov: per-touchpoint fractions of a non-empty converting path. Each channel of the path gets
 * credit proportional to its removal effect (normalized within the path; equal split over the
 * path's channels if all are 0; a channel the model never saw has effect 0), split equally
 * over the channel's touchpoints.
 */
export function markovFractions(path: readonly Touchpoint[], model: MarkovModel): number[] {
  const effects = new Map(model.removalEffects.map((e) => [e.channel, Math.max(e.effect, 0)]));
  const channels = distinctChannels(path.map((tp) => tp.channel));
  const weights = channels.map((c) => effects.get(c) ?? 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const credit = new Map(channels.map((c, i) => [c, total > 0 ? (weights[i] as number) / total : 1 / channels.length]));
  return splitChannelCredit(path, credit);
}
