import type { EventType } from '@sigflow/events';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { createSegmentFeatures, type SegmentFeatureState, type TraitValue } from './segment-features.js';
import type { SegmentMembership } from './segment-memberships.js';

type Flat = (string | number | null)[];

/**
 * The segment part of a user snapshot, compact: `[times, channels, lastInvalid, lastConversion,
 * memberships, traits]`, where times are `[type or track:<name>, n, age...]` and channels `[channel,
 * age, ...]` with ages counted back from the user's newest event (small numbers), memberships
 * `[id, name, entered, version, ...]`, traits `[name, value, ts, event id, ...]`.
 */
export function encodeSegmentState(user: { readonly maxTs: number | null; readonly segmentFeatures: SegmentFeatureState; readonly segments: readonly SegmentMembership[] }): Flat[] | (number | null)[] {
  const f = user.segmentFeatures;
  const base = user.maxTs ?? 0;
  const times: Flat = [];
  for (const type in f.times) {
    const list = f.times[type as EventType] as number[];
    times.push(type, list.length);
    for (const ts of list) times.push(base - ts);
  }
  const channels: Flat = [];
  for (const channel in f.channels) channels.push(channel, base - (f.channels[channel] as number));
  const members: Flat = [];
  for (const m of user.segments) members.push(m.id, m.name, m.entered, m.version);
  const traits: (string | number | boolean)[] = [];
  for (const name in f.traits) traits.push(name, ...(f.traits[name] as TraitValue));
  return [times, channels, f.lastInvalid, f.lastConversion, members, traits] as Flat[] | (number | null)[];
}

const bad = () => new InvalidStateError('user snapshot: malformed segment state');

function decodeTimes(flat: unknown[], base: number): SegmentFeatureState['times'] {
  const times: SegmentFeatureState['times'] = {};
  for (let i = 0; i < flat.length; ) {
    const type = flat[i] as EventType;
    const n = flat[i + 1];
    if (typeof type !== 'string' || typeof n !== 'number' || i + 2 + n > flat.length) throw bad();
    times[type] = (flat.slice(i + 2, i + 2 + n) as number[]).map((age) => base - age);
    i += 2 + n;
  }
  return times;
}

function decodeTraits(flat: unknown): Record<string, TraitValue> {
  const traits: Record<string, TraitValue> = {};
  if (flat === undefined) return traits;
  if (!Array.isArray(flat) || flat.length % 4 !== 0) throw bad();
  for (let i = 0; i < flat.length; i += 4) traits[flat[i] as string] = [flat[i + 1] as string | number | boolean, flat[i + 2] as number, flat[i + 3] as string];
  return traits;
}

/** Decodes {@link encodeSegmentState} (undefined: a snapshot written before segments existed; 5 entries: before traits). */
export function decodeSegmentState(value: unknown, maxTs: number | null): { segmentFeatures: SegmentFeatureState; segments: SegmentMembership[] } {
  if (value === undefined) return { segmentFeatures: createSegmentFeatures(), segments: [] };
  if (!Array.isArray(value) || (value.length !== 5 && value.length !== 6)) throw bad();
  const [times, channels, lastInvalid, lastConversion, members, traits] = value as [unknown, unknown, number | null, number | null, unknown, unknown];
  if (!Array.isArray(times) || !Array.isArray(channels) || !Array.isArray(members) || members.length % 4 !== 0 || channels.length % 2 !== 0) throw bad();
  const base = maxTs ?? 0;
  const byChannel: Record<string, number> = {};
  for (let i = 0; i < channels.length; i += 2) byChannel[channels[i] as string] = base - (channels[i + 1] as number);
  const segments: SegmentMembership[] = [];
  for (let i = 0; i < members.length; i += 4) {
    segments.push({ id: members[i] as string, name: members[i + 1] as string, entered: members[i + 2] as number, version: members[i + 3] as number });
  }
  return { segmentFeatures: { times: decodeTimes(times, base), channels: byChannel, lastInvalid, lastConversion, traits: decodeTraits(traits) }, segments };
}
