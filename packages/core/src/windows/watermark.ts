import type { RuleSettings } from '../rule-settings.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { windowEnd } from './tumbling-window.js';

/** Operator state of one Kafka partition (JSON-serializable). */
export interface PartitionState {
  /** Schema version of the persisted JSON. */
  readonly v: 1;
  /** Max event time seen in the partition; null before the first event. */
  maxEventTs: number | null;
}

/** A partition that has seen no event yet. */
export function createPartitionState(): PartitionState {
  return { v: 1, maxEventTs: null };
}

/** Watermark = max event time seen - watermarkDelayMs; null (nothing is late) before any event. */
export function currentWatermark(partition: PartitionState, settings: RuleSettings): number | null {
  return partition.maxEventTs === null ? null : partition.maxEventTs - settings.watermarkDelayMs;
}

/** Moves the partition's max event time forward (never back). Mutates `partition`. */
export function advanceWatermark(partition: PartitionState, eventTs: number): void {
  if (partition.maxEventTs === null || eventTs > partition.maxEventTs) partition.maxEventTs = eventTs;
}

/**
 * The late decision. An event is late when its window ended MORE than allowedLatenessMs before
 * the watermark: watermark - windowEnd > allowedLatenessMs, with windowEnd exclusive (the next
 * window's start). At exactly allowedLatenessMs the window is still open. With the defaults
 * (60 s windows, 5 s delay, 60 s lateness) an event in [0, 60 000) is on time while the
 * watermark is <= 120 000, i.e. until an event with ts 125 000 has been seen, and late after.
 */
export function isLateEvent(eventTs: number, watermark: number | null, settings: RuleSettings): boolean {
  return watermark !== null && watermark - windowEnd(eventTs, settings.windowMs) > settings.allowedLatenessMs;
}

/** Checks partition state read back from JSON; throws {@link InvalidStateError} when malformed. */
export function parsePartitionState(value: unknown): PartitionState {
  const s = value as Partial<PartitionState> | null;
  if (typeof s !== 'object' || s === null || s.v !== 1 || !(s.maxEventTs === null || typeof s.maxEventTs === 'number')) {
    throw new InvalidStateError('partition state is not a v1 PartitionState');
  }
  return s as PartitionState;
}
