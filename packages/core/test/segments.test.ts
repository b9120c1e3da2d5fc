import { describe, expect, it } from 'vitest';
import {
  compileSegmentSet,
  createUserState,
  defaultRuleSettings as settings,
  encodeUserSnapshot,
  evaluateSegments,
  forEachSizeDelta,
  InvalidSegmentRuleError,
  parseSegmentRule,
  processEvent,
  restoreUserState,
  segmentIdOf,
  type SegmentDefinition,
  type SegmentRule,
  type SegmentSet,
  type SegmentStep,
  type UserState,
} from '../src/index.js';
import { defaultSegmentRuleLimits as limits } from '../src/segments/segment-rule.js';
import { click, conversion, DAY, GOOGLEBOT_UA, HOUR, impression, MINUTE, pageView, SECOND, T0 } from './helpers.js';
import type { ReceivedEvent } from '@sigflow/events';

/** Runs a user's events in order through the keyed processor (no watermark: nothing late). */
function userAfter(events: readonly ReceivedEvent[]): UserState {
  const user = createUserState();
  for (const e of events) processEvent({ user, settings, isDuplicate: false }, e);
  return user;
}

function definition(name: string, rule: unknown, version = 1, createdAt = T0): SegmentDefinition {
  return { name, id: segmentIdOf(name, createdAt), version, rule: rule as SegmentRule, description: '', createdAt, updatedAt: createdAt };
}

function setOf(...defs: SegmentDefinition[]): SegmentSet {
  return compileSegmentSet(defs, 1).set;
}

/** Whether `user` is in a one-segment set built from `rule` after its latest event. */
function holds(user: UserState, rule: unknown): boolean {
  const probe = { ...user, segments: [] };
  evaluateSegments(probe, setOf(definition('probe', rule)), user.maxTs, settings);
  return probe.segments.length === 1;
}

const cond = (feature: string, op: string, value: unknown) => ({ all: [{ feature, op, value }] });
const t = T0 + 10 * DAY; // the user's latest event in most cases below

describe('count:<type>:<window> features', () => {
  // page views at t - 25 h, t - 1 h (exactly the 1 h boundary), t - 30 min and t; a bot page view at t - 10 min.
  const user = userAfter([
    pageView({ id: 'p1', ts: t - 25 * HOUR, page: 'home' }),
    pageView({ id: 'p2', ts: t - HOUR, page: 'home' }),
    pageView({ id: 'p3', ts: t - 30 * MINUTE, page: 'home' }),
    pageView({ id: 'bot', ts: t - 10 * MINUTE, page: 'home', ua: GOOGLEBOT_UA }),
    pageView({ id: 'p4', ts: t, page: 'home' }),
  ]);

  it('counts valid events of the type in [t - window, t], the boundary included', () => {
    expect(holds(user, cond('count:page_view:1h', '==', 3))).toBe(true); // p2 (at t - 1 h), p3, p4; not the bot
    expect(holds(user, cond('count:page_view:24h', '==', 3))).toBe(true); // p1 is 25 h back
    expect(holds(user, cond('count:page_view:7d', '==', 4))).toBe(true);
    expect(holds(user, cond('count:click:7d', '==', 0))).toBe(true);
  });

  it('a threshold exactly at the count: >= holds, > does not', () => {
    expect(holds(user, cond('count:page_view:1h', '>=', 3))).toBe(true);
    expect(holds(user, cond('count:page_view:1h', '>', 3))).toBe(false);
    expect(holds(user, cond('count:page_view:1h', '<=', 3))).toBe(true);
    expect(holds(user, cond('count:page_view:1h', '<', 3))).toBe(false);
    expect(holds(user, cond('count:page_view:1h', '!=', 3))).toBe(false);
    expect(holds(user, cond('count:page_view:1h', 'in', [1, 3, 5]))).toBe(true);
    expect(holds(user, cond('count:page_view:1h', 'in', [2, 4]))).toBe(false);
  });

  it('one millisecond past the window boundary drops the oldest event', () => {
    const later = userAfter([pageView({ id: 'a', ts: t - HOUR, page: 'x' }), pageView({ id: 'b', ts: t + 1, page: 'x' })]);
    expect(holds(later, cond('count:page_view:1h', '==', 1))).toBe(true);
  });
});

describe('channels (valid touchpoints in [t - 7 d, t])', () => {
  const user = userAfter([
    impression({ id: 'i-display', ts: t - 8 * DAY, channel: 'display', ad: 'a0' }), // outside 7 d
    impression({ id: 'i-social', ts: t - 7 * DAY, channel: 'social', ad: 'a1' }), // exactly 7 d: in
    impression({ id: 'i-bot', ts: t - DAY, channel: 'video', ad: 'a2', ua: GOOGLEBOT_UA }), // invalid: not a touch
    impression({ id: 'i-email', ts: t - HOUR, channel: 'email', ad: 'a3' }),
    pageView({ id: 'p', ts: t, page: 'home' }),
  ]);

  it('in: touched at least one of the listed channels', () => {
    expect(holds(user, cond('channels', 'in', ['search', 'social']))).toBe(true);
    expect(holds(user, cond('channels', 'in', ['display', 'video']))).toBe(false);
  });

  it('== / != a list: exactly that set; a number: how many', () => {
    expect(holds(user, cond('channels', '==', ['email', 'social']))).toBe(true);
    expect(holds(user, cond('channels', '==', ['email']))).toBe(false);
    expect(holds(user, cond('channels', '!=', ['email']))).toBe(true);
    expect(holds(user, cond('channels', '>=', 2))).toBe(true);
    expect(holds(user, cond('channels', '>', 2))).toBe(false);
  });
});

describe('engagement_score, last_conversion_age_s, flagged', () => {
  // page_view 0.5 at t - 3 d (one half-life), click 1 at t: 0.5 x 0.5 + 1 = 1.25 exactly.
  const engaged = userAfter([
    impression({ id: 'i', ts: t - 3 * DAY - 5 * SECOND, ad: 'a1' }),
    pageView({ id: 'p', ts: t - 3 * DAY, page: 'home' }),
    click({ id: 'c', ts: t, ad: 'a9' }), // orphan (no impression of a9): invalid, weighs nothing
  ]);

  it('engagement_score is decayed to the latest event (boundary: >= holds, > does not)', () => {
    // impression 0.1 at t - 3 d - 5 s also counts: 0.1 x 2^-(3 d + 5 s)/3 d + 0.5 x 0.5; the orphan click is invalid.
    const expected = 0.1 * 2 ** (-(3 * DAY + 5 * SECOND) / (3 * DAY)) + 0.25;
    expect(holds(engaged, cond('engagement_score', '>=', expected))).toBe(true);
    expect(holds(engaged, cond('engagement_score', '>', expected))).toBe(false);
  });

  it('flagged: an invalid event in [t - 24 h, t]', () => {
    expect(holds(engaged, cond('flagged', '==', true))).toBe(true);
    const old = userAfter([pageView({ id: 'b', ts: t - 25 * HOUR, page: 'x', ua: GOOGLEBOT_UA }), pageView({ id: 'p', ts: t, page: 'x' })]);
    expect(holds(old, cond('flagged', '==', true))).toBe(false);
    expect(holds(old, cond('flagged', '!=', true))).toBe(true);
  });

  it('last_conversion_age_s: seconds since the latest valid conversion; none fails every comparison', () => {
    const converted = userAfter([conversion({ id: 'v', ts: t - 90 * SECOND, value: 10 }), pageView({ id: 'p', ts: t, page: 'x' })]);
    expect(holds(converted, cond('last_conversion_age_s', '==', 90))).toBe(true);
    expect(holds(converted, cond('last_conversion_age_s', '<', 90))).toBe(false);
    const never = userAfter([pageView({ id: 'p', ts: t, page: 'x' })]);
    expect(holds(never, cond('last_conversion_age_s', '>=', 0))).toBe(false);
    expect(holds(never, cond('last_conversion_age_s', '!=', 5))).toBe(false);
  });

  it('all / any groups nest', () => {
    const rule = { any: [{ feature: 'flagged', op: '==', value: false }, { all: [{ feature: 'count:click:1h', op: '==', value: 0 }, { feature: 'channels', op: 'in', value: ['search'] }] }] };
    // engaged is flagged; it has no valid click; it touched search (the impression at t - 3 d).
    expect(holds(engaged, rule)).toBe(true);
  });
});

describe('memberships', () => {
  const rule = cond('count:page_view:1h', '>=', 2);
  const set = setOf(definition('active', rule));
  const id = segmentIdOf('active', T0);
  const run = (user: UserState, event: ReceivedEvent, segments = set): SegmentStep | null => {
    const previous = user.maxTs;
    processEvent({ user, settings, isDuplicate: false }, event);
    return evaluateSegments(user, segments, previous, settings);
  };

  it('enter at the event that makes the rule true, leave at the one that makes it false', () => {
    const user = createUserState();
    expect(run(user, pageView({ id: 'a', ts: t, page: 'x' }))).toBeNull();
    const entered = run(user, pageView({ id: 'b', ts: t + MINUTE, page: 'x' }));
    expect(entered?.transitions).toEqual([{ id, name: 'active', version: 1, change: 'entered', at: t + MINUTE, reason: 'rule', entered: null }]);
    expect(user.segments).toEqual([{ id, name: 'active', entered: t + MINUTE, version: 1 }]);
    const kept = run(user, pageView({ id: 'c', ts: t + 2 * MINUTE, page: 'x' }));
    expect(kept).toMatchObject({ transitions: [], continuing: [{ id, entered: t + MINUTE }], changed: false });
    expect(kept?.continuing).toBe(user.segments); // nothing changed: the user's own list, no copy
    // 2 h later only this page view is in the hour: the rule is false, the user leaves.
    const left = run(user, pageView({ id: 'd', ts: t + 2 * HOUR, page: 'x' }));
    expect(left?.transitions).toEqual([{ id, name: 'active', version: 1, change: 'left', at: t + 2 * HOUR, reason: 'rule', entered: t + MINUTE }]);
    expect(user.segments).toEqual([]);
  });

  it('a membership lapses the TTL after the last event; a new definition version is recorded; a deleted segment is left', () => {
    const user = createUserState();
    run(user, pageView({ id: 'a', ts: t, page: 'x' }));
    run(user, pageView({ id: 'b', ts: t + SECOND, page: 'x' }));
    const ttl = settings.segmentMembershipTtlMs;
    const back = t + SECOND + ttl; // exactly at expiry: lapsed
    run(user, pageView({ id: 'c', ts: back, page: 'x' }));
    const step = run(user, pageView({ id: 'd', ts: back + 1, page: 'x' }));
    expect(step?.transitions.map((x) => [x.change, x.at])).toEqual([['entered', back + 1]]);
    const v2 = setOf(definition('active', rule, 2));
    expect(run(user, pageView({ id: 'e', ts: back + 2, page: 'x' }), v2)).toMatchObject({ changed: true, continuing: [{ id, version: 2 }] });
    expect(user.segments[0]?.version).toBe(2);
    const gone = run(user, pageView({ id: 'f', ts: back + 3, page: 'x' }), setOf());
    expect(gone?.transitions.map((x) => [x.change, x.reason])).toEqual([['left', 'deleted']]);
  });

  it('the lapse is reported at the membership end when the next event comes', () => {
    const user = createUserState();
    run(user, pageView({ id: 'a', ts: t, page: 'x' }));
    run(user, pageView({ id: 'b', ts: t + SECOND, page: 'x' }));
    const step = run(user, pageView({ id: 'c', ts: t + 8 * DAY, page: 'x' }));
    expect(step?.transitions).toEqual([{ id, name: 'active', version: 1, change: 'left', at: t + SECOND + 7 * DAY, reason: 'lapsed', entered: t + SECOND }]);
  });
});

describe('size deltas (in and out per window)', () => {
  const w = MINUTE;
  const collect = (step: SegmentStep) => {
    const out: [string, number, string, number][] = [];
    forEachSizeDelta(step, w, (id, ws, kind, delta) => out.push([id, ws - t, kind, delta]));
    return out;
  };
  const ttl = 7 * DAY;
  it('an entry counts in now and out at its expiry; an event moves the expiry; an exit moves it to now', () => {
    const entered: SegmentStep = { at: t + 30 * SECOND, expiresAt: t + 30 * SECOND + ttl, previousExpiresAt: t + ttl, transitions: [{ id: 's', name: 's', version: 1, change: 'entered', at: t + 30 * SECOND, reason: 'rule', entered: null }], continuing: [], changed: true };
    expect(collect(entered)).toEqual([['s', 0, 'in', 1], ['s', ttl, 'out', 1]]);
    const moved: SegmentStep = { at: t + 2 * MINUTE, expiresAt: t + 2 * MINUTE + ttl, previousExpiresAt: t + 30 * SECOND + ttl, transitions: [], continuing: [{ id: 's', name: 's', entered: t + 30 * SECOND, version: 1 }], changed: false };
    expect(collect(moved)).toEqual([['s', ttl, 'out', -1], ['s', ttl + 2 * MINUTE, 'out', 1]]);
    const left: SegmentStep = { at: t + 3 * MINUTE, expiresAt: t + 3 * MINUTE + ttl, previousExpiresAt: t + 2 * MINUTE + ttl, transitions: [{ id: 's', name: 's', version: 1, change: 'left', at: t + 3 * MINUTE, reason: 'rule', entered: t }], continuing: [], changed: true };
    expect(collect(left)).toEqual([['s', 3 * MINUTE, 'out', 1], ['s', ttl + 2 * MINUTE, 'out', -1]]);
  });
});

describe('the segment state survives a snapshot and a replay of signals', () => {
  it('features and memberships come back exactly', () => {
    const user = userAfter([impression({ id: 'i', ts: t - HOUR, channel: 'email' }), pageView({ id: 'p', ts: t, page: 'x', ua: GOOGLEBOT_UA })]);
    user.segments = [{ id: 's.1', name: 's', entered: t, version: 3 }];
    const restored = restoreUserState(encodeUserSnapshot({ user, signals: 2, writtenAt: 1 }), 2, [], settings).user;
    expect(restored.segmentFeatures).toEqual(user.segmentFeatures);
    expect(restored.segments).toEqual(user.segments);
  });
});

describe('parseSegmentRule refuses what is not the rule language, naming where', () => {
  const refuse = (rule: unknown, path: string, text: RegExp) => {
    let error: unknown;
    try {
      parseSegmentRule(rule, limits);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidSegmentRuleError);
    expect((error as InvalidSegmentRuleError).path).toBe(path);
    expect((error as Error).message).toMatch(text);
  };

  it('accepts a nested rule', () => {
    const rule = { all: [{ feature: 'engagement_score', op: '>', value: 2 }, { any: [{ feature: 'flagged', op: '==', value: false }] }] };
    expect(parseSegmentRule(rule, limits)).toEqual(rule);
  });

  it('unknown features, types and windows', () => {
    refuse(cond('eval(process.exit())', '==', 1), '/all/0/feature', /unknown feature/);
    refuse(cond('count:purchase:1h', '==', 1), '/all/0/feature', /unknown event type "purchase"/);
    refuse(cond('count:click:2h', '==', 1), '/all/0/feature', /unknown window "2h"/);
  });

  it('deep nesting', () => {
    let rule: unknown = cond('flagged', '==', true);
    for (let i = 0; i < 10; i++) rule = { any: [rule] };
    refuse(rule, '/any/0/any/0/any/0/any/0', /nested deeper than 4 levels/);
  });

  it('huge lists and too many conditions', () => {
    refuse(cond('channels', 'in', Array.from({ length: 5000 }, (_, i) => `c${i}`)), '/all/0/value', /5000 values; at most 64/);
    refuse({ all: Array.from({ length: 33 }, () => ({ feature: 'flagged', op: '==', value: true })) }, '/all', /more than 32 conditions/);
    const wide = { all: Array.from({ length: 4 }, () => ({ any: Array.from({ length: 9 }, () => ({ feature: 'flagged', op: '==', value: true })) })) };
    // 3 x 9 = 27 conditions before the last group: its 6th (index 5) is the 33rd.
    refuse(wide, '/all/3/any/5', /more than 32 conditions/);
  });

  it('operators and values that do not fit the feature, unknown fields, empty groups', () => {
    refuse(cond('flagged', '>', 1), '/all/0/op', /flagged takes == or !=/);
    refuse(cond('flagged', '==', 'yes'), '/all/0/value', /true or false/);
    refuse(cond('count:click:1h', '>', '3'), '/all/0/value', /finite number/);
    refuse(cond('count:click:1h', 'like', 3), '/all/0/op', /one of/);
    refuse(cond('channels', 'in', ['Search!']), '/all/0/value/0', /channel id/);
    refuse({ all: [{ feature: 'flagged', op: '==', value: true, code: 'x' }] }, '/all/0/code', /unknown field/);
    refuse({ all: [] }, '/all', /empty/);
    refuse([{ feature: 'flagged' }], '', /expected a group/);
  });
});
