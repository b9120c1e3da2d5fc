import type { EventKey } from '../ordering/event-order.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';

/**
 * The keyed state of one IP within one Kafka partition (plain JSON): its recent non-duplicate
 * clicks, valid or not, for the IP half of the flood rule.
 */
export interface IpState {
  /** Schema version of the persisted JSON. */
  readonly v: 1;
  /** Newest click time of the IP; prunes `recentClicks`. */
  maxTs: number | null;
  /** Sorted by (ts, event_id). */
  recentClicks: EventKey[];
}

/** An IP with no clicks yet. */
export function createIpState(): IpState {
  return { v: 1, maxTs: null, recentClicks: [] };
}

/** Checks IP state read back from JSON; throws {@link InvalidStateError} when malformed. */
export function parseIpState(value: unknown): IpState {
  const s = value as Partial<IpState> | null;
  if (typeof s !== 'object' || s === null || s.v !== 1 || !Array.isArray(s.recentClicks)) {
    throw new InvalidStateError('ip state is not a v1 IpState');
  }
  return s as IpState;
}
