import { describe, expect, it } from 'vitest';
import { InvalidRuleSettingsError, clickThroughRate, createUserState, defaultRuleSettings as settings, foldOutcomes, pageHeatmap, processEvent } from '../src/index.js';
import { InvalidStateError } from '../src/errors/invalid-state-error.js';
import { checkRuleSettings } from '../src/check-rule-settings.js';
import { parseUserState } from '../src/processor/user-state.js';
import { stateLimits } from '../src/processor/state-limits.js';
import { CHROME_UA, GOOGLEBOT_UA, MINUTE, SECOND, T0, click, conversion, elementClick, impression, outcomeOf, runSpeed } from './helpers.js';

describe('processEvent outcome', () => {
  const { outcomes, users } = runSpeed(
    [
      impression({ id: 'i1', ts: T0, channel: 'search' }),
      click({ id: 'k1', ts: T0 + 5 * SECOND, channel: 'search' }),
      conversion({ id: 'v1', ts: T0 + 2 * MINUTE, value: 30 }),
    ],
    { jsonRoundTrip: true },
  );

  it('a valid click: signal, window metric, join, session; the profile is the keyed state', () => {
    expect(outcomeOf(outcomes, 'k1')).toEqual({
      event_id: 'k1',
      user_id: 'u1',
      type: 'click',
      ts: T0 + 5 * SECOND,
      windowStart: T0,
      status: 'valid',
      reason: null,
      late: false,
      signal: { event_id: 'k1', type: 'click', ts: T0 + 5 * SECOND, campaign_id: 'c1', ad_id: 'a1', channel: 'search', invalid: false, reason: null, late: false, source: 'speed' },
      windowMetric: { windowStart: T0, campaign_id: 'c1', ad_id: 'a1', impressions: 0, clicks: 1, invalidImpressions: 0, invalidClicks: 0 },
      // No cost, but a valid click: the multiplier counts it.
      spend: { windowStart: T0, campaign_id: 'c1', channel: 'search', spend: 0, invalidSpend: 0, clicks: 1 },
      join: { impression_event_id: 'i1', impression_ts: T0, delay_ms: 5 * SECOND },
      attribution: null,
      heatmap: null,
      eventCount: null,
      pageActivity: null,
      session: {
        kind: 'extended',
        before: { start: T0, end: T0, events: 1 },
        after: { start: T0, end: T0 + 5 * SECOND, events: 2 },
      },
    });
  });

  it('the profile after the click is the keyed state: engagement, last touch, conversions', () => {
    const { users } = runSpeed([impression({ id: 'i1', ts: T0, channel: 'search' }), click({ id: 'k1', ts: T0 + 5 * SECOND, channel: 'search' })], { jsonRoundTrip: true });
    const state = users.get('u1')!;
    // The impression (0.1) decayed over 5 s, plus the click (1).
    expect(state.engagement).toEqual({ score: expect.closeTo(1 + 0.1 * 2 ** (-5 * SECOND / settings.engagementHalfLifeMs), 12), asOf: T0 + 5 * SECOND });
    expect(state.lastTouch).toEqual({ event_id: 'k1', ts: T0 + 5 * SECOND, type: 'click', campaign_id: 'c1', ad_id: 'a1', channel: 'search' });
    expect(state.conversions).toEqual({ count: 0, value: 0 });
  });

  it('a valid conversion is attributed in its window, without a table by the equal split', () => {
    const v = outcomeOf(outcomes, 'v1');
    expect(v.windowStart).toBe(T0 + 2 * MINUTE);
    expect(v.attribution?.pathLength).toBe(2);
    expect(v.attribution?.shapleyVersion).toBeNull();
    expect(v.attribution?.credits.last_touch.map((c) => c.revenue)).toEqual([0, 30]);
    expect(users.get('u1')?.conversions).toEqual({ count: 1, value: 30 });
  });
});

describe('folding outcomes into view deltas', () => {
  const { outcomes } = runSpeed([
    impression({ id: 'i1', ts: T0, user: 'u1' }),
    impression({ id: 'i2', ts: T0 + 1, user: 'u2' }),
    impression({ id: 'i3', ts: T0 + 2, user: 'u3', ua: GOOGLEBOT_UA }),
    click({ id: 'k1', ts: T0 + 10 * SECOND, user: 'u1' }),
    click({ id: 'k2', ts: T0 + 10 * SECOND, user: 'u4' }), // orphan
    impression({ id: 'i1', ts: T0, user: 'u1' }), // duplicate
    elementClick({ id: 'e1', ts: T0 + 3, user: 'u1', page: 'home', element: 'buy', ua: CHROME_UA }),
    elementClick({ id: 'e2', ts: T0 + 4, user: 'u2', page: 'home', element: 'nav' }),
    elementClick({ id: 'e3', ts: T0 + 5, user: 'u2', page: 'home', element: 'buy' }),
  ]);
  const deltas = foldOutcomes(outcomes);

  it('counts valid and invalid touchpoints per window, campaign and ad; CTR over valid ones', () => {
    expect(deltas.windowMetrics).toEqual([
      { windowStart: T0, campaign_id: 'c1', ad_id: 'a1', impressions: 2, clicks: 1, invalidImpressions: 1, invalidClicks: 1 },
    ]);
    expect(clickThroughRate(1, 2)).toBe(0.5);
    expect(clickThroughRate(0, 0)).toBeNull();
    expect(deltas.invalidTraffic).toEqual([
      { windowStart: T0, type: 'click', reason: 'orphan', events: 1 },
      { windowStart: T0, type: 'impression', reason: 'bot', events: 1 },
    ]);
    expect(deltas.counts).toEqual({ events: 8, duplicates: 1, late: 0, invalid: 2 });
  });

  it('heatmap increments fold into per-element counts that rank', () => {
    expect(deltas.heatmap).toEqual([
      { page_id: 'home', windowStart: T0, element_id: 'buy', clicks: 2 },
      { page_id: 'home', windowStart: T0, element_id: 'nav', clicks: 1 },
    ]);
    expect(pageHeatmap(deltas.heatmap).map((c) => [c.element_id, c.rank, c.fraction])).toEqual([
      ['buy', 1, 2 / 3],
      ['nav', 2, 1 / 3],
    ]);
  });
});

describe('spend per window, campaign and channel', () => {
  // u1: a search impression (CPM, 2,500 micros) and its click (CPC, 1.2 EUR); u2: a display
  // impression and an orphan click (invalid: its 900,000 micros are refund claims); a bot's
  // impression of 3,000 micros; a copy of u1's click (not counted twice); a late impression.
  const { outcomes } = runSpeed([
    impression({ id: 'i1', ts: T0 + 2 * MINUTE, user: 'u1', channel: 'search', cost: 2_500 }),
    impression({ id: 'i2', ts: T0 + 2 * MINUTE + 1, user: 'u2', ad: 'a2', channel: 'display', cost: 4_000 }),
    impression({ id: 'i3', ts: T0 + 2 * MINUTE + 2, user: 'u3', ad: 'a2', channel: 'display', cost: 3_000, ua: GOOGLEBOT_UA }),
    click({ id: 'k1', ts: T0 + 2 * MINUTE + 10 * SECOND, user: 'u1', channel: 'search', cost: 1_200_000 }),
    click({ id: 'k1', ts: T0 + 2 * MINUTE + 10 * SECOND, user: 'u1', channel: 'search', cost: 1_200_000 }),
    click({ id: 'k2', ts: T0 + 3 * MINUTE, user: 'u2', ad: 'a9', channel: 'display', cost: 900_000 }),
    // Watermark T0 + 6 min - 5 s: the window of T0 closed (ended T0 + 1 min, + 1 min lateness) before it.
    impression({ id: 'i9', ts: T0 + 6 * MINUTE, user: 'u4', channel: 'search', cost: 10 }),
    impression({ id: 'i0', ts: T0, user: 'u5', channel: 'search', cost: 7_777 }),
  ]);
  const deltas = foldOutcomes(outcomes);

  it('sums the cost of valid touchpoints as spend, of invalid ones apart, and counts valid clicks', () => {
    expect(outcomeOf(outcomes, 'i0').late).toBe(true);
    expect(deltas.spend).toEqual([
      { windowStart: T0 + 2 * MINUTE, campaign_id: 'c1', channel: 'display', spend: 4_000, invalidSpend: 3_000, clicks: 0 },
      { windowStart: T0 + 2 * MINUTE, campaign_id: 'c1', channel: 'search', spend: 1_202_500, invalidSpend: 0, clicks: 1 },
      { windowStart: T0 + 3 * MINUTE, campaign_id: 'c1', channel: 'display', spend: 0, invalidSpend: 900_000, clicks: 0 },
      { windowStart: T0 + 6 * MINUTE, campaign_id: 'c1', channel: 'search', spend: 10, invalidSpend: 0, clicks: 0 },
    ]);
  });

  it('gives an outcome no spend increment when a touchpoint adds nothing (no cost, not a valid click)', () => {
    const { outcomes: free } = runSpeed([impression({ id: 'f1', ts: T0 }), click({ id: 'f2', ts: T0 + 5 * MINUTE, user: 'u9' })]);
    expect(free.map((o) => o.spend)).toEqual([null, null]);
  });
});

describe('state bounds and persistence', () => {
  it('new users share their empty lists and objects until they fill them, and never what they change', () => {
    const [ann, bob] = [createUserState(), createUserState()];
    for (const [id, type, ts] of [['i1', 'impression', T0 + SECOND], ['k1', 'click', T0 + 6 * SECOND], ['v1', 'conversion', T0 + MINUTE]] as const) {
      const event = { impression, click, conversion }[type]({ id, ts, value: 5 });
      processEvent({ user: ann, settings, shapley: null, isDuplicate: false }, event);
    }
    processEvent({ user: ann, settings, shapley: null, isDuplicate: false }, { ...impression({ id: 'id1', ts: T0 }), type: 'identify', traits: { plan: 'pro' } } as never);
    expect([ann.path.length, ann.recentClicks.length, ann.recentImpressions.length, ann.sessions.length, ann.conversions.count]).toEqual([2, 1, 1, 1, 1]);
    expect(ann.segmentFeatures.traits).toEqual({ plan: ['pro', T0, 'id1'] });
    const empty = createUserState();
    expect(bob).toEqual(empty);
    expect([bob.path, bob.recentClicks, bob.recentImpressions, bob.sessions, bob.conversions, bob.segments, bob.segmentFeatures.traits]).toEqual([[], [], [], [], { count: 0, value: 0 }, [], {}]);
    // What is shared is frozen: a change in place, not through the rules, throws instead of reaching every user.
    expect(() => bob.path.push(ann.path[0]!)).toThrow(TypeError);
  });

  it('keeps at most 256 touchpoints in the path and 16 sessions', () => {
    const user = createUserState();
    for (let i = 0; i < 300; i++) {
      // 31 min apart: each impression opens a session.
      processEvent({ user, settings, isDuplicate: false }, impression({ id: `i${String(i).padStart(3, '0')}`, ts: T0 + i * 31 * MINUTE }));
    }
    expect(user.path).toHaveLength(stateLimits.pathTouchpoints);
    expect(user.path[0]?.event_id).toBe('i044');
    expect(user.sessions).toHaveLength(stateLimits.sessions);
    expect(user.recentImpressions.length).toBeLessThanOrEqual(stateLimits.joinImpressionsPerAd);
  });

  it('rejects persisted state of another shape', () => {
    const json = JSON.parse(JSON.stringify(createUserState())) as unknown;
    expect(parseUserState(json)).toEqual(createUserState());
    expect(() => parseUserState({ ...(json as object), v: 2 })).toThrow(InvalidStateError);
  });

  it('rejects settings no rule can use', () => {
    expect(checkRuleSettings(settings)).toBe(settings);
    expect(() => checkRuleSettings({ ...settings, windowMs: 0 })).toThrow(InvalidRuleSettingsError);
    expect(() => checkRuleSettings({ ...settings, floodThreshold: 1.5 })).toThrow(/floodThreshold/);
  });
});
