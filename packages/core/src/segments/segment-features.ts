import { eventLimits, type EventType } from '@sigflow/events';
import { channelsWindowMs, featureLookbackMs, flaggedWindowMs } from './segment-rule.js';

/** A trait as kept: its value and the (ts, event_id) of the `identify` that set it (the latest wins). */
export type TraitValue = readonly [value: string | number | boolean, ts: number, eventId: string];

/**
 * The key of a custom event's times in {@link SegmentFeatureState.times}: `track:<name>` (the
 * type alone, `track`, counts every custom event).
 */
export const trackTimesKey = (name: string): string => `track:${name}`;

/**
 * What the segment features need of a user's history, kept in the user's keyed state and
 * updated by every non-duplicate event (late ones too), so both layers hold the same state.
 * Bounded: the times of the last 7 d per type and per custom event name (at most
 * `maxTimesPerType` each, `maxTrackNames` names), one entry per channel, `maxTraits` traits.
 */
export interface SegmentFeatureState {
  /**
   * Per event type, and per custom event name (`track:<name>`), the times of the user's valid
   * events of the last 7 d (ascending).
   */
  times: Partial<Record<EventType, number[]>> & Record<string, number[]>;
  /** Per channel, the time of the user's latest valid touchpoint on it. */
  channels: Record<string, number>;
  /** Time of the user's latest invalid event (any reason); null: none. */
  lastInvalid: number | null;
  /** Time of the user's latest valid conversion; null: none. */
  lastConversion: number | null;
  /** The user's traits (valid `identify` events, the latest in event time per trait; ties: the higher event id). */
  traits: Record<string, TraitValue>;
}

/**
 * Times kept per event type: a `count:` feature counts at most this many (a user with more valid
 * events of one type in the window counts as this many; both layers cap alike).
 */
export const maxTimesPerType = 500;
/** Channels kept per user (the ones touched most recently). */
const maxChannels = 64;
/** Custom event names whose times are kept per user (the ones seen most recently). */
export const maxTrackNames = 32;

/** The traits of every user without any, shared (frozen): {@link absorbTraits} gives a user its own at its first. */
const NO_TRAITS: SegmentFeatureState['traits'] = Object.freeze({});

/** No history. */
export function createSegmentFeatures(): SegmentFeatureState {
  return { times: {}, channels: {}, lastInvalid: null, lastConversion: null, traits: NO_TRAITS };
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
  readonly event_id: string;
  readonly type: EventType;
  readonly channel?: string | undefined;
  /** A custom event's name. */
  readonly name?: string | undefined;
  /** An identify's traits. */
  readonly traits?: Readonly<Record<string, string | number | boolean>> | undefined;
}

/** Whether (ts, id) comes after the trait's setter, in event time then event id. */
const newer = (ts: number, id: string, kept: TraitValue) => ts > kept[1] || (ts === kept[1] && id > kept[2]);

/** An identify's traits: the latest per trait wins; a new trait beyond `maxTraits` is left out. */
function absorbTraits(state: SegmentFeatureState, event: FeatureInput): void {
  // States kept before traits existed have none; a new state shares the empty set.
  if (state.traits === undefined || state.traits === NO_TRAITS) state.traits = {};
  let count = Object.keys(state.traits).length;
  for (const [name, value] of Object.entries(event.traits ?? {})) {
    const kept = state.traits[name];
    if (kept === undefined && count >= eventLimits.maxTraits) continue;
    if (kept !== undefined && !newer(event.ts, event.event_id, kept)) continue;
    if (kept === undefined) count++;
    state.traits[name] = [value, event.ts, event.event_id];
  }
}

function addTime(state: SegmentFeatureState, key: string, ts: number): void {
  const list = state.times[key];
  if (list) insertTime(list, ts);
  else state.times[key] = [ts];
}

/** Drops the names beyond {@link maxTrackNames}, those whose latest event is oldest first. */
function pruneTrackNames(times: Record<string, number[]>): void {
  // Counted first: every event of every user passes here, and almost none has too many names.
  let count = 0;
  for (const k in times) if (k.startsWith('track:')) count++;
  if (count <= maxTrackNames) return;
  const names = Object.keys(times).filter((k) => k.startsWith('track:'));
  const latest = (k: string) => (times[k] as number[]).at(-1) ?? 0;
  names.sort((a, b) => latest(a) - latest(b) || (a < b ? -1 : 1));
  for (const k of names.slice(0, names.length - maxTrackNames)) delete times[k];
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
    addTime(state, event.type, event.ts);
    if (event.type === 'track' && event.name !== undefined) addTime(state, trackTimesKey(event.name), event.ts);
    if (event.type === 'identify') absorbTraits(state, event);
    if (event.channel !== undefined && (event.type === 'impression' || event.type === 'click')) {
      const seen = state.channels[event.channel];
      if (seen === undefined || event.ts > seen) state.channels[event.channel] = event.ts;
    }
    if (event.type === 'conversion' && (state.lastConversion === null || event.ts > state.lastConversion)) state.lastConversion = event.ts;
  }
  const from = maxTs - featureLookbackMs;
  for (const key in state.times) {
    const list = state.times[key] as number[];
    pruneTimes(list, from);
    if (list.length === 0) delete state.times[key];
  }
  pruneTrackNames(state.times);
  pruneChannels(state.channels, maxTs - channelsWindowMs);
}

/**
 * Valid events of a type, or of a custom event name (`track:<name>`), with ts in
 * [t - windowMs, t] (at most {@link maxTimesPerType}).
 */
export function countInWindow(state: SegmentFeatureState, key: string, windowMs: number, t: number): number {
  const list = state.times[key];
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
