import type { EventType } from '@sigflow/events';
import { channelsWindowMs, featureLookbackMs, flaggedWindowMs } from './segment-rule.js';

/**
 * What the segment features need of a user's history, kept in the user's keyed state and
 * updated by every non-duplicate event (late ones too), so both layers hold the same state.
 * Bounded: the times of the last 7 d per type (at most `maxTimesPerType`), one entry per channel.
 */
export interface SegmentFeatureState {
  /** Per event type, the times of the user's valid events of the last 7 d (ascending). */
  times: Partial<Record<EventType, number[]>>;
  /** Per channel, the time of the user's latest valid touchpoint on it. */
  channels: Record<string, number>;
  /** Time of the user's latest invalid event (any reason); null: none. */
  lastInvalid: number | null;
  /** Time of the user's latest valid conversion; null: none. */
  lastConversion: number | null;
}

/**
 * Times kept per event type: a `count:` feature counts at most this many (a user with more valid
 * events of one type in the window counts as this many; both layers cap alike).
 */
export const maxTimesPerType = 500;
/** Channels kept per user (the ones touched most recently). */
const maxChannels = 64;

/** No history. */
export function createSegmentFeatures(): SegmentFeatureState {
  return { times: {}, channels: {}, lastInvalid: null, lastConversion: null };
}

/** Inserts `ts` into an ascending list (appends in the common in-order case). */
function insertTime(list: number[], ts: number): void {
  let at = list.length;
  while (at > 0 && (list[at - 1] as number) > ts) at--;
  if (at === list.length) list.push(ts);
  else list.splice(at, 0, ts);
}

function pruneTimes(list: number[], from: number): void {
  let drop = 0;
  while (drop < list.length && (list[drop] as number) < from) drop++;
  drop = Math.max(drop, list.length - maxTimesPerType);
  if (drop > 0) list.splice(0, drop);
}

function pruneChannels(channels: Record<string, number>, from: number): void {
  let kept = 0;
  for (const channel in channels) {
    if ((channels[channel] as number) < from) delete channels[channel];
    else kept++;
  }
  if (kept <= maxChannels) return;
  const oldest = Object.entries(channels).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  for (const [channel] of oldest.slice(0, kept - maxChannels)) delete channels[channel];
}

/** The part of an event the features read (events and replayed signals both carry it). */
export interface FeatureInput {
  readonly ts: number;
  readonly type: EventType;
  readonly channel?: string | undefined;
}

/**
 * Absorbs one non-duplicate event into the features, `maxTs` being the user's newest event time
 * after it: valid events are counted by type (touchpoints also mark their channel, conversions
 * their time); invalid ones mark the user flagged. Then drops what is older than any window.
 */
export function absorbSegmentFeatures(state: SegmentFeatureState, event: FeatureInput, valid: boolean, maxTs: number): void {
  if (!valid) {
    if (state.lastInvalid === null || event.ts > state.lastInvalid) state.lastInvalid = event.ts;
  } else {
    const list = state.times[event.type];
    if (list) insertTime(list, event.ts);
    else state.times[event.type] = [event.ts];
    if (event.channel !== undefined && (event.type === 'impression' || event.type === 'click')) {
      const seen = state.channels[event.channel];
      if (seen === undefined || event.ts > seen) state.channels[event.channel] = event.ts;
    }
    if (event.type === 'conversion' && (state.lastConversion === null || event.ts > state.lastConversion)) state.lastConversion = event.ts;
  }
  const from = maxTs - featureLookbackMs;
  for (const type in state.times) pruneTimes(state.times[type as EventType] as number[], from);
  pruneChannels(state.channels, maxTs - channelsWindowMs);
}

/** Valid events of `type` with ts in [t - windowMs, t] (at most {@link maxTimesPerType}). */
export function countInWindow(state: SegmentFeatureState, type: EventType, windowMs: number, t: number): number {
  const list = state.times[type];
  if (!list) return 0;
  const from = t - windowMs;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  let end = list.length;
  while (end > lo && (list[end - 1] as number) > t) end--;
  return end - lo;
}

/** Whether the user touched `channel` (a valid touchpoint) in [t - 7 d, t]. */
export function touchedChannel(state: SegmentFeatureState, channel: string, t: number): boolean {
  const at = state.channels[channel];
  return at !== undefined && at >= t - channelsWindowMs && at <= t;
}

/** How many channels the user touched in [t - 7 d, t]. */
export function channelCount(state: SegmentFeatureState, t: number): number {
  let n = 0;
  for (const channel in state.channels) if (touchedChannel(state, channel, t)) n++;
  return n;
}

/** Whether the user had an invalid event in [t - 24 h, t]. */
export function isFlagged(state: SegmentFeatureState, t: number): boolean {
  return state.lastInvalid !== null && state.lastInvalid >= t - flaggedWindowMs && state.lastInvalid <= t;
}

/** Seconds since the user's latest valid conversion at `t`; null: no conversion. */
export function lastConversionAgeS(state: SegmentFeatureState, t: number): number | null {
  return state.lastConversion === null ? null : (t - state.lastConversion) / 1000;
}
