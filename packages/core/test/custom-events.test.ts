// Custom events (track) and traits (identify) through the keyed processor, by hand (DESIGN.md,
// "Custom events, traits and Segment's wire format").
import { describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '@sigflow/events';
import { compileSegmentSet, createUserState, defaultRuleSettings as settings, evaluateSegments, processEvent, segmentIdOf, type SegmentRule, type UserState } from '../src/index.js';
import { CHROME_UA, GOOGLEBOT_UA, HOUR, MINUTE, T0 } from './helpers.js';

const track = (id: string, ts: number, name: string, properties: Record<string, string | number | boolean> = {}, userAgent = CHROME_UA): ReceivedEvent =>
  ({ event_id: id, type: 'track', user_id: 'u', ts, name, properties, user_agent: userAgent, received_at: ts }) as ReceivedEvent;
const identify = (id: string, ts: number, traits: Record<string, string | number | boolean>): ReceivedEvent =>
  ({ event_id: id, type: 'identify', user_id: 'u', ts, traits, received_at: ts }) as ReceivedEvent;

function run(events: readonly ReceivedEvent[]) {
  const user = createUserState();
  const outcomes = events.map((e) => processEvent({ user, settings, isDuplicate: false }, e));
  return { user, outcomes };
}

/** Whether the user is in a one-segment set of `rule` after their latest event. */
function holds(user: UserState, rule: unknown): boolean {
  const probe = { ...user, segments: [] };
  const definition = { name: 'probe', id: segmentIdOf('probe', T0), version: 1, rule: rule as SegmentRule, description: '', createdAt: T0, updatedAt: T0 };
  evaluateSegments(probe, compileSegmentSet([definition], 1).set, user.maxTs, settings);
  return probe.segments.length === 1;
}
const cond = (feature: string, op: string, value: unknown) => ({ all: [{ feature, op, value }] });

describe('custom events', () => {
  it('are signals with their name and properties, counted per name and minute, valid or bot', () => {
    const { outcomes } = run([track('s1', T0 + 5_000, 'search', { query: 'tent' }), track('s2', T0 + 65_000, 'search', {}, GOOGLEBOT_UA)]);
    expect(outcomes[0]!.signal).toMatchObject({ type: 'track', name: 'search', properties: { query: 'tent' }, invalid: false });
    expect(outcomes[0]!.eventCount).toEqual({ windowStart: T0, name: 'search', outcome: 'valid', count: 1 });
    expect(outcomes[1]!.eventCount).toEqual({ windowStart: T0 + MINUTE, name: 'search', outcome: 'invalid:bot', count: 1 });
    // Never a touchpoint, never a conversion.
    expect(outcomes.every((o) => o.windowMetric === null && o.attribution === null && o.join === null)).toBe(true);
  });

  it('count:track:<name>:<window> counts one name within the window; count:track counts every name', () => {
    // searches at t - 2 h, t - 50 min, t - 10 min; a view_item at t.
    const t = T0 + 3 * HOUR;
    const { user } = run([track('a', t - 2 * HOUR, 'search'), track('b', t - 50 * MINUTE, 'search'), track('c', t - 10 * MINUTE, 'search'), track('d', t, 'view_item')]);
    expect(holds(user, cond('count:track:search:1h', '==', 2))).toBe(true);
    expect(holds(user, cond('count:track:search:24h', '==', 3))).toBe(true);
    expect(holds(user, cond('count:track:view_item:1h', '==', 1))).toBe(true);
    expect(holds(user, cond('count:track:wishlist:7d', '==', 0))).toBe(true);
    expect(holds(user, cond('count:track:1h', '==', 3))).toBe(true);
  });
});

describe('traits', () => {
  it('keeps per trait the latest identify in event time (ties: the higher event id), whatever the arrival order', () => {
    const { user, outcomes } = run([
      identify('i2', T0 + 2_000, { plan: 'pro', seats: 3 }),
      // Arrives later, happened earlier: its plan does not win; its city is new.
      identify('i1', T0 + 1_000, { plan: 'free', city: 'Lyon' }),
      // Same time as i2, higher id: wins.
      identify('i3', T0 + 2_000, { seats: 5 }),
      // Same time, lower id: loses.
      identify('i0', T0 + 2_000, { seats: 1 }),
    ]);
    expect(Object.fromEntries(Object.entries(user.segmentFeatures.traits).map(([k, [v]]) => [k, v]))).toEqual({ plan: 'pro', seats: 5, city: 'Lyon' });
    // An identify is no signal and no count.
    expect(outcomes.every((o) => o.signal === null && o.eventCount === null)).toBe(true);
    expect(holds(user, cond('trait:plan', '==', 'pro'))).toBe(true);
    expect(holds(user, cond('trait:seats', '>=', 5))).toBe(true);
    expect(holds(user, cond('trait:plan', 'in', ['free', 'plus']))).toBe(false);
    expect(holds(user, cond('trait:missing', '==', 'x'))).toBe(false);
  });

  it('keeps at most 64 traits: a new one past them is left out, known ones still change', () => {
    const many = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`t${i}`, i]));
    const { user } = run([identify('a', T0, many), identify('b', T0 + 1, { extra: true, t0: 'changed' })]);
    const traits = user.segmentFeatures.traits;
    expect(Object.keys(traits)).toHaveLength(64);
    expect(traits['extra']).toBeUndefined();
    expect(traits['t0']![0]).toBe('changed');
  });
});
