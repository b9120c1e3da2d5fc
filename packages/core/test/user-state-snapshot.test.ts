import { describe, expect, it } from 'vitest';
import { DROPPED_SIGNAL_PREFIX, defaultRuleSettings as settings, encodeSignal, encodeUserSnapshot, isDroppedSignal, restoreUserState, signalEventIdSpan, storedSignalValidity, uncheckedSignal, type UserState } from '../src/index.js';
import { leadingValidity } from '../src/processor/user-signal.js';
import { CHROME_UA, GOOGLEBOT_UA, MINUTE, SECOND, T0, click, conversion, elementClick, impression, pageView, runSpeed, seededRandom } from './helpers.js';
import type { ReceivedEvent } from '@sigflow/events';

/** A user's mixed history: touchpoints on two ads, bot traffic, floods of clicks, conversions, late arrivals. */
function history(seed: number, n: number): ReceivedEvent[] {
  const random = seededRandom(seed);
  const events: ReceivedEvent[] = [];
  let ts = T0;
  for (let i = 0; i < n; i++) {
    ts += random() < 0.05 ? 2 * 60 * MINUTE : Math.floor(random() * 40 * SECOND);
    const ua = random() < 0.05 ? GOOGLEBOT_UA : CHROME_UA;
    const ad = random() < 0.5 ? 'a1' : 'a2';
    const at = random() < 0.05 ? ts - 10 * MINUTE : ts; // out of order
    const id = `e${i}`;
    const kind = random();
    if (kind < 0.35) events.push(impression({ id, ts: at, ad, ua, ip: '198.51.100.7', channel: ad === 'a1' ? 'search' : 'social' }));
    else if (kind < 0.7) events.push(click({ id, ts: at, ad, ua, ip: '198.51.100.7', channel: ad === 'a1' ? 'search' : 'social' }));
    else if (kind < 0.8) events.push(conversion({ id, ts: at, value: Math.floor(random() * 100), ua }));
    else if (kind < 0.9) events.push(pageView({ id, ts: at, page: 'home', ua }));
    else events.push(elementClick({ id, ts: at, page: 'home', element: 'buy', ua }));
  }
  return events;
}

/** The user's signals as the speed layer stores them: newest first. */
function signalLog(events: readonly ReceivedEvent[]): string[] {
  const { outcomes } = runSpeed(events);
  return outcomes.flatMap((o) => (o.signal ? [JSON.stringify(o.signal)] : [])).reverse();
}

const stateAfter = (events: readonly ReceivedEvent[]): UserState => runSpeed(events).users.get('u1')!;

describe('user state snapshots', () => {
  it('decode(encode(state)) is the state, after a JSON round trip', () => {
    const state = stateAfter(history(3, 120));
    expect(state.path.length).toBeGreaterThan(10);
    expect(state.sessions.length).toBeGreaterThan(1);
    const text = encodeUserSnapshot({ user: state, signals: 120, writtenAt: 5 });
    const restored = restoreUserState(text, 120, [], settings);
    expect(restored).toMatchObject({ signals: 120, sinceSnapshot: 0, snapshotAt: 5, complete: true });
    expect(JSON.parse(JSON.stringify(restored.user))).toEqual(JSON.parse(JSON.stringify(stateAfter(history(3, 120)))));
  });

  it('a snapshot plus the signals after it rebuild exactly the state of processing every event', () => {
    for (const seed of [1, 2, 3, 4]) {
      const events = history(seed, 150);
      const log = signalLog(events);
      expect(log.length).toBe(150);
      for (const cut of [0, 1, 40, 118, 149]) {
        const snapshot = cut === 0 ? null : encodeUserSnapshot({ user: stateAfter(events.slice(0, cut)), signals: cut, writtenAt: 1 });
        const restored = restoreUserState(snapshot, log.length, log.slice(0, 150 - cut), settings);
        expect(restored.complete).toBe(true);
        expect(restored.sinceSnapshot).toBe(150 - cut);
        expect(JSON.parse(JSON.stringify(restored.user)), `seed ${seed}, snapshot after ${cut}`).toEqual(JSON.parse(JSON.stringify(stateAfter(events))));
      }
    }
  });

  it('says when the log lacks signals the snapshot expects (keys lost apart), and replays what there is', () => {
    const events = history(9, 40);
    const log = signalLog(events);
    const snapshot = encodeUserSnapshot({ user: stateAfter(events.slice(0, 10)), signals: 10, writtenAt: 1 });
    const restored = restoreUserState(snapshot, 40, log.slice(0, 12), settings);
    expect(restored).toMatchObject({ complete: false, sinceSnapshot: 12, signals: 40 });
  });

  it('restores a join impression that is in the path as the path\'s own touchpoint, one that is not as an impression of its own', () => {
    // Written by hand in the v2 layout: maxTs, clicks, join impressions [ts, id, campaign, ad, channel], path [.., type].
    const snapshot = JSON.stringify([2, 2, 1, T0, [], [T0 - 5, 'gone', 'c1', 'a1', 'search', T0, 'kept', 'c1', 'a2', 'social'], [T0, 'kept', 'c1', 'a2', 'social', 'i'], [], [0, T0], null, [0, 0], [[], [], null, null, []]]);
    const { user } = restoreUserState(snapshot, 2, [], settings);
    expect(user.recentImpressions[1]).toBe(user.path[0]);
    expect(user.recentImpressions[0]).toEqual({ ts: T0 - 5, event_id: 'gone', campaign_id: 'c1', ad_id: 'a1', channel: 'search', type: 'impression' });
  });

  it('replays past a copy the batch layer dropped: its place counts, its event does not', () => {
    const events = history(11, 30);
    const log = signalLog(events);
    const snapshot = encodeUserSnapshot({ user: stateAfter(events.slice(0, 20)), signals: 20, writtenAt: 1 });
    // The newest entry stands for a copy of an event the snapshot holds: dropped in place.
    const marked = [`${DROPPED_SIGNAL_PREFIX}"duplicate","event_id":"e3"}`, ...log];
    const restored = restoreUserState(snapshot, 31, marked.slice(0, 11), settings);
    expect(restored).toMatchObject({ complete: true, sinceSnapshot: 11, signals: 31 });
    expect(JSON.parse(JSON.stringify(restored.user))).toEqual(JSON.parse(JSON.stringify(stateAfter(events))));
  });

  it('refuses a snapshot of another format', () => {
    expect(() => restoreUserState('{"v":1}', 0, [], settings)).toThrow(/v2 snapshot/);
  });
});

describe('encodeSignal', () => {
  it('writes exactly what JSON.stringify writes, strings that need escaping included', () => {
    const events = history(5, 300);
    const { outcomes } = runSpeed(events);
    const signals = outcomes.flatMap((o) => (o.signal ? [o.signal] : []));
    const odd = { ...signals[0]!, event_id: 'q"uo\\te\u2028', campaign_id: 'ü\u{1F600}', value: 1.5e-7 };
    // Longer than the encoder's first buffer (512 bytes), with non-ASCII keys and values.
    const long = { ...signals[0]!, type: 'track' as const, name: 'wishlisted\u00e9', properties: { 'cl\u00e9': 'v\u00fc'.repeat(400), n: 2, ok: true } };
    for (const s of [...signals, odd, long, signals[1]!]) expect(encodeSignal(s)).toBe(JSON.stringify(s));
    expect(new Set(signals.map((s) => s.type)).size).toBeGreaterThan(3);
  });

  it('begins with the validity, so a reader skips invalid traffic from the first bytes', () => {
    const { outcomes } = runSpeed(history(5, 300));
    const signals = outcomes.flatMap((o) => (o.signal ? [o.signal] : []));
    expect(new Set(signals.map((s) => s.invalid))).toEqual(new Set([true, false]));
    for (const s of signals) expect(encodeSignal(s).startsWith(`{"invalid":${s.invalid ? 'true' : 'false'},"event_id":`)).toBe(true);
  });
});

describe('reading a stored signal without parsing it', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const idOf = (json: string) => {
    const span = signalEventIdSpan(bytes(json));
    return span === null ? null : JSON.parse(new TextDecoder().decode(bytes(json).subarray(span[0], span[1])));
  };

  it("finds each signal's event id, ids that hold quotes, commas and the next field's name included", () => {
    const { outcomes } = runSpeed(history(5, 200));
    const signals = outcomes.flatMap((o) => (o.signal ? [o.signal] : []));
    const odd = ['q"uo\\te', 'a,"type":"click"', ',', '"', 'ü\u{1F600}'].map((event_id) => ({ ...signals[0]!, event_id }));
    for (const s of [...signals, ...odd]) expect(idOf(encodeSignal(s))).toBe(s.event_id);
    expect(new Set(signals.map((s) => s.invalid))).toEqual(new Set([true, false]));
  });

  it('says null for entries of another layout, and knows a dropped copy', () => {
    const s = { invalid: false, event_id: 'x', type: 'click', ts: 1, reason: null, late: false, source: 'speed' } as const;
    const { ts, ...rest } = s;
    expect(idOf(JSON.stringify({ ts, ...rest }))).toBeNull();
    expect(idOf('{"invalid":false,"id":"x","type":"click"}')).toBeNull();
    expect(leadingValidity(bytes(encodeSignal({ ...s, invalid: true, reason: 'bot' })))).toBe(false);
    expect(leadingValidity(bytes(encodeSignal(s)))).toBe(true);
    const unchecked = encodeSignal({ ...s, unchecked: true, late: true });
    expect([uncheckedSignal(bytes(unchecked)), uncheckedSignal(bytes(encodeSignal({ ...s, invalid: true, reason: 'bot', unchecked: true }))), uncheckedSignal(bytes(encodeSignal(s)))]).toEqual([true, true, false]);
    expect(idOf(unchecked)).toBe('x');
    expect(JSON.parse(unchecked)).toEqual({ ...s, unchecked: true, late: true });
    const dropped = `${DROPPED_SIGNAL_PREFIX}"duplicate","event_id":"x"}`;
    expect([isDroppedSignal(bytes(dropped)), isDroppedSignal(bytes(encodeSignal(s))), leadingValidity(bytes(dropped))]).toEqual([true, false, null]);
  });

  it('reads the validity of both layouts without parsing, and never from inside a string value', () => {
    const s = { invalid: false, event_id: 'x', type: 'track', ts: 1, reason: null, late: false, source: 'speed' } as const;
    const earlier = (signal: object) => bytes(JSON.stringify({ event_id: 'x', type: 'track', ts: 1, ...signal }));
    expect(storedSignalValidity(bytes(encodeSignal(s)))).toBe(true);
    expect(storedSignalValidity(bytes(encodeSignal({ ...s, invalid: true, reason: 'bot' })))).toBe(false);
    expect(storedSignalValidity(earlier({ invalid: false }))).toBe(true);
    expect(storedSignalValidity(earlier({ invalid: true }))).toBe(false);
    // The token quoted in a property: escaped, so not the field; nothing else says, so parse it.
    expect(storedSignalValidity(earlier({ name: '"invalid":true' }))).toBeNull();
    expect(storedSignalValidity(earlier({ name: '"invalid":true', invalid: false }))).toBe(true);
    expect(storedSignalValidity(bytes(`${DROPPED_SIGNAL_PREFIX}"duplicate","event_id":"x"}`))).toBeNull();
  });
});
