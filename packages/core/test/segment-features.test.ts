import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { EventType } from '@sigflow/events';
import { absorbSegmentFeatures, createSegmentFeatures, type FeatureInput, type SegmentFeatureState } from '../src/segments/segment-features.js';
import { DAY, HOUR, MINUTE, T0 } from './helpers.js';

// The rule as its documentation states it, applied in full after every event: valid events add
// their time per type (a custom event also under its name, `track:<name>`; a touchpoint also its channel's
// latest time, a conversion its time), invalid ones the latest invalid time; then every time older
// than 7 days before the user's newest event goes (a type left without times goes too), each type
// keeps its newest 500 times, the 32 names whose latest event is newest stay, and the channels
// keep their newest 64.
const WEEK = 7 * DAY;
/** Applies the rule; says which bounds dropped something. */
function referenceAbsorb(state: SegmentFeatureState, e: FeatureInput, valid: boolean, maxTs: number): { age: boolean; cap: boolean; channels: boolean } {
  const dropped = { age: false, cap: false, channels: false };
  if (!valid) state.lastInvalid = Math.max(state.lastInvalid ?? -Infinity, e.ts);
  else {
    for (const key of e.type === 'track' ? ['track', `track:${e.name}`] : [e.type]) state.times[key] = [...(state.times[key] ?? []), e.ts].sort((a, b) => a - b);
    if (e.channel !== undefined && (e.type === 'impression' || e.type === 'click')) state.channels[e.channel] = Math.max(state.channels[e.channel] ?? -Infinity, e.ts);
    if (e.type === 'conversion') state.lastConversion = Math.max(state.lastConversion ?? -Infinity, e.ts);
  }
  for (const type of Object.keys(state.times)) {
    const all = state.times[type] as number[];
    const recent = all.filter((t) => t >= maxTs - WEEK);
    dropped.age ||= recent.length < all.length;
    dropped.cap ||= recent.length > 500;
    if (recent.length === 0) delete state.times[type];
    else state.times[type] = recent.slice(-500);
  }
  const names = Object.keys(state.times).filter((k) => k.startsWith('track:'));
  names.sort((a, b) => (state.times[b] as number[]).at(-1)! - (state.times[a] as number[]).at(-1)! || (a < b ? 1 : -1));
  for (const name of names.slice(32)) delete state.times[name];
  const kept = Object.entries(state.channels).filter(([, t]) => t >= maxTs - WEEK);
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1));
  dropped.channels = kept.length > 64;
  state.channels = Object.fromEntries(kept.slice(0, 64));
  return dropped;
}

/** A seeded stream of one user's events: mostly in order, some hours or days late, bursts of one type, many channels. */
function* userEvents(seed: number, count: number): Generator<{ event: FeatureInput; valid: boolean }> {
  let x = seed;
  const random = () => ((x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  const types: EventType[] = ['impression', 'click', 'conversion', 'page_view', 'scroll', 'track'];
  let now = T0;
  for (let i = 0; i < count; i++) {
    const r = random();
    // Gaps from seconds to two weeks; a tenth of the events arrive up to 10 days late.
    now += r < 0.002 ? Math.floor(random() * 14 * DAY) : r < 0.006 ? Math.floor(random() * 2 * DAY) : Math.floor(random() * 10 * MINUTE);
    const ts = random() < 0.1 ? now - Math.floor(random() * 10 * DAY) : now;
    const type = i % 300 < 200 ? 'impression' : (types[Math.floor(random() * types.length)] as EventType);
    const channel = `ch-${Math.floor(random() * (i < 1_000 ? 90 : 8))}`;
    // Custom events under 40 names: more than the 32 kept.
    const name = type === 'track' ? `n${Math.floor(random() * 40)}` : undefined;
    yield { event: { ts, event_id: `e${i}`, type, channel, name }, valid: random() > 0.15 };
  }
}

describe('absorbSegmentFeatures', () => {
  it.each([1, 2, 3, 4])('holds what the rule says after every event of a long user history (seed %i)', (seed) => {
    const state = createSegmentFeatures();
    const expected = createSegmentFeatures();
    let maxTs = -Infinity;
    const bounds = { age: 0, cap: 0, channels: 0 };
    let i = 0;
    for (const { event, valid } of userEvents(seed, 6_000)) {
      maxTs = Math.max(maxTs, event.ts);
      absorbSegmentFeatures(state, event, valid, maxTs);
      const dropped = referenceAbsorb(expected, event, valid, maxTs);
      for (const k of ['age', 'cap', 'channels'] as const) if (dropped[k]) bounds[k]++;
      // vitest's diffing comparison only where they differ: 24,000 toEqual calls took 15 s, and
      // comparing both states' JSON (key order may differ) 2-10 s.
      if (!isDeepStrictEqual(state, expected)) expect(state, `after event ${i}`).toEqual(expected);
      i++;
    }
    // The stream reached every bound: times dropped by age, a type past its cap, more channels than kept.
    expect(bounds.age).toBeGreaterThan(0);
    expect(bounds.cap).toBeGreaterThan(0);
    expect(bounds.channels).toBeGreaterThan(0);
  });

  it('drops the times and channels of a decoded state that are 7 days older than the newest event', () => {
    // As a snapshot decodes it, with times that the next event's maxTs puts outside the window.
    const state: SegmentFeatureState = { times: { impression: [T0, T0 + 8 * DAY] }, channels: { display: T0, search: T0 + 8 * DAY }, lastInvalid: null, lastConversion: null, traits: {} };
    absorbSegmentFeatures(state, { ts: T0 + 8 * DAY + HOUR, event_id: 'p1', type: 'page_view' }, true, T0 + 8 * DAY + HOUR);
    expect(state.times).toEqual({ impression: [T0 + 8 * DAY], page_view: [T0 + 8 * DAY + HOUR] });
    expect(state.channels).toEqual({ search: T0 + 8 * DAY });
  });
});
