import type { RuleSettings } from '../rule-settings.js';

/**
 * Where one copy of an event came from: the collector's `received_at` and its Kafka offset
 * (a kafkajs offset string or a number; compared as integers).
 */
export interface EventCopy {
  readonly received_at: number;
  readonly offset: string | number;
}

function compareOffsets(a: string | number, b: string | number): number {
  // Offsets are int64: compare as BigInt so 2^53+ offsets stay exact.
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Orders copies of one event: earliest `received_at` first, then the lowest offset. */
export function compareCopies(a: EventCopy, b: EventCopy): number {
  return a.received_at - b.received_at || compareOffsets(a.offset, b.offset);
}

/** True when copy `a` is the first copy compared with `b` (DESIGN.md: it wins; `b` is a duplicate). */
export function firstCopyWins(a: EventCopy, b: EventCopy): boolean {
  return compareCopies(a, b) < 0;
}

/**
 * What the speed layer does with an arriving copy, given the copy it remembers for the same
 * `event_id` (from its "seen" store, e.g. Redis), if any:
 * - `first`: none remembered: process it and remember this copy;
 * - `redelivery`: the remembered copy itself (same received_at and offset), e.g. a replay:
 *   skip it, its effects are already applied;
 * - `duplicate`: a later copy: count it as a duplicate, no other effect;
 * - `earlier_duplicate`: by the batch rule this copy is the first one, but the speed layer has
 *   already applied the remembered copy and cannot retract it. It is counted as a duplicate;
 *   the batch layer, which picks by {@link compareCopies}, corrects any difference.
 */
export type CopyVerdict = 'first' | 'redelivery' | 'duplicate' | 'earlier_duplicate';

/** Decides an arriving copy against the remembered one; see {@link CopyVerdict}. */
export function classifyCopy(remembered: EventCopy | undefined, incoming: EventCopy): CopyVerdict {
  if (remembered === undefined) return 'first';
  const order = compareCopies(incoming, remembered);
  if (order === 0) return 'redelivery';
  return order < 0 ? 'earlier_duplicate' : 'duplicate';
}

/** True when {@link classifyCopy}'s verdict means "do not process" (everything but `first`). */
export function isDuplicateVerdict(verdict: CopyVerdict): boolean {
  return verdict !== 'first';
}

/**
 * Until when (ms, on the `received_at` clock) a seen copy must be remembered: the dedupe horizon.
 * Copies arriving later than this are no longer recognised as duplicates by the speed layer.
 */
export function rememberCopyUntil(copy: EventCopy, settings: RuleSettings): number {
  return copy.received_at + settings.dedupeHorizonMs;
}

/**
 * The batch rule over a set of copies: for each `event_id` the first copy (by
 * {@link compareCopies}) is kept, the others are duplicates. Output keeps input order.
 */
export function pickFirstCopies<T extends EventCopy & { readonly event_id: string }>(
  copies: readonly T[],
): { first: T[]; duplicates: T[] } {
  const winner = new Map<string, T>();
  for (const copy of copies) {
    const current = winner.get(copy.event_id);
    if (current === undefined || firstCopyWins(copy, current)) winner.set(copy.event_id, copy);
  }
  const first: T[] = [];
  const duplicates: T[] = [];
  for (const copy of copies) (winner.get(copy.event_id) === copy ? first : duplicates).push(copy);
  return { first, duplicates };
}

