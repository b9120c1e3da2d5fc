import { describe, expect, it } from 'vitest';
import {
  attributeConversion,
  defaultRuleSettings as settings,
  realTimeModels,
  type Credit,
  type Touchpoint,
} from '../src/index.js';
import { DAY, T0 } from './helpers.js';

const t = T0 + 30 * DAY; // conversion time

function touch(id: string, ts: number, channel: string, campaign = `camp-${channel}`): Touchpoint {
  return { event_id: id, ts, type: 'click', campaign_id: campaign, ad_id: `ad-${id}`, channel };
}

const fractions = (credits: readonly Credit[]) => credits.map((c) => c.fraction);

describe('attribution path', () => {
  it('is the touchpoints in [t - 7 d, t] before the conversion, ordered by (ts, event_id)', () => {
    const touches = [
      touch('x-too-old', t - 7 * DAY - 1, 'search'),
      touch('b', t - 7 * DAY, 'search'), // exactly 7 d: in
      touch('a', t - 7 * DAY, 'email'), // same ts: ordered by event_id
      touch('v0', t, 'social'), // same ts as the conversion, smaller id: before it
      touch('v9', t, 'social'), // larger id: after it
      touch('z-future', t + 1, 'social'),
    ];
    const r = attributeConversion(touches, { ts: t, event_id: 'v5' }, { settings });
    expect(r.pathLength).toBe(3);
    expect(r.credits.linear.map((c) => c.touchpoint_event_id)).toEqual(['a', 'b', 'v0']);
  });

  it('an empty path credits direct / none with 1 in every model', () => {
    const r = attributeConversion([], { ts: t, event_id: 'v', value: 40 }, { settings });
    for (const model of realTimeModels) {
      expect(r.credits[model]).toEqual([
        { touchpoint_event_id: null, touchpoint_ts: null, campaign_id: 'none', ad_id: 'none', channel: 'direct', fraction: 1, revenue: 40 },
      ]);
    }
    expect(r.pathLength).toBe(0);
  });
});

describe('rule-based models (hand-computed)', () => {
  // Three touches 14 d, 7 d and 0 d before the conversion (lookback widened to 15 d to keep all three).
  const wide = { ...settings, attributionLookbackMs: 15 * DAY };
  const path = [touch('t1', t - 14 * DAY, 'search'), touch('t2', t - 7 * DAY, 'email'), touch('t3', t, 'social')];
  const r = attributeConversion(path, { ts: t, event_id: 'v', value: 70 }, { settings: wide });

  it('last_touch and first_touch', () => {
    expect(fractions(r.credits.last_touch)).toEqual([0, 0, 1]);
    expect(fractions(r.credits.first_touch)).toEqual([1, 0, 0]);
  });

  it('linear', () => {
    expect(fractions(r.credits.linear)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('time_decay: weights 2^-(14/7) = 0.25, 2^-(7/7) = 0.5, 1; total 1.75', () => {
    const f = fractions(r.credits.time_decay);
    expect(f[0]).toBeCloseTo(0.25 / 1.75, 12);
    expect(f[1]).toBeCloseTo(0.5 / 1.75, 12);
    expect(f[2]).toBeCloseTo(1 / 1.75, 12);
    expect(r.credits.time_decay[2]?.revenue).toBeCloseTo(40, 10); // 70 x 4/7
  });

  it('position_based with 1, 2, 3 and 5 touches', () => {
    const pb = (n: number) =>
      fractions(
        attributeConversion(
          Array.from({ length: n }, (_, i) => touch(`p${i}`, t - (n - i) * 1000, 'search')),
          { ts: t, event_id: 'v' },
          { settings },
        ).credits.position_based,
      );
    expect(pb(1)).toEqual([1]);
    expect(pb(2)).toEqual([0.5, 0.5]);
    expect(pb(3)).toEqual([0.4, 0.2, 0.4]);
    const five = pb(5);
    expect(five[0]).toBe(0.4);
    expect(five[4]).toBe(0.4);
    for (const middle of five.slice(1, 4)) expect(middle).toBeCloseTo(0.2 / 3, 15);
  });

  it('credits carry campaign, ad and channel, and revenue = fraction x value', () => {
    expect(r.credits.first_touch[0]).toEqual({
      touchpoint_event_id: 't1',
      touchpoint_ts: t - 14 * DAY,
      campaign_id: 'camp-search',
      ad_id: 'ad-t1',
      channel: 'search',
      fraction: 1,
      revenue: 70,
    });
    expect(r.credits.linear.map((c) => c.revenue).reduce((a, b) => a + b)).toBeCloseTo(70, 10);
  });

  it('every model sums to 1 and value defaults to 0', () => {
    const noValue = attributeConversion(path, { ts: t, event_id: 'v' }, { settings: wide });
    for (const model of realTimeModels) {
      expect(fractions(noValue.credits[model]).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
      expect(noValue.credits[model].every((c) => c.revenue === 0)).toBe(true);
    }
  });
});
