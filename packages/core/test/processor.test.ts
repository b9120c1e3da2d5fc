import { describe, expect, it } from 'vitest';
import {
  InvalidRuleSettingsError,
  InvalidStateError,
  checkRuleSettings,
  clickThroughRate,
  createUserState,
  defaultRuleSettings as settings,
  foldOutcomes,
  pageHeatmap,
  parseUserState,
  processEvent,
  stateLimits,
} from '../src/index.js';
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
      signal: { event_id: 'k1', type: 'click', ts: T0 + 5 * SECOND, campaign_id: 'c1', ad_id: 'a1', channel: 'search', invalid: false, reason: null, late: false },
      windowMetric: { windowStart: T0, campaign_id: 'c1', ad_id: 'a1', impressions: 0, clicks: 1, invalidImpressions: 0, invalidClicks: 0 },
      join: { impression_event_id: 'i1', impression_ts: T0, delay_ms: 5 * SECOND },
      attribution: null,
      heatmap: null,
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

describe('state bounds and persistence', () => {
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
