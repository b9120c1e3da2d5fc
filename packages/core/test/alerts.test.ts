import { describe, expect, it } from 'vitest';
import {
  addAlertCounts,
  alertConditionHolds,
  alertMetricValue,
  InvalidAlertRuleError,
  noAlertCounts,
  parseAlertRule,
  quietSeries,
  stepAlertSeries,
  type AlertCounts,
  type AlertSeriesState,
} from '../src/index.js';

const counts = (c: Partial<AlertCounts>): AlertCounts => ({ ...noAlertCounts, windows: 1, ...c });

describe('alert metrics per campaign and window', () => {
  it('ctr = valid clicks / valid impressions; invalid_share over every touchpoint; none: null', () => {
    expect(alertMetricValue('ctr', counts({ impressions: 200, clicks: 5, invalidClicks: 7 }))).toBe(0.025);
    expect(alertMetricValue('invalid_share', counts({ impressions: 6, clicks: 1, invalidImpressions: 2, invalidClicks: 1 }))).toBe(0.3);
    expect(alertMetricValue('ctr', counts({ clicks: 3 }))).toBeNull();
    expect(alertMetricValue('invalid_share', counts({}))).toBeNull();
  });

  it('the trailing hour: ratios of sums, conversions and paces as means per window', () => {
    let hour = noAlertCounts;
    for (let i = 0; i < 60; i++) hour = addAlertCounts(hour, counts({ impressions: 100, clicks: i < 30 ? 2 : 4, conversions: i % 2, paceSum: 1.2, paceWindows: 1 }));
    expect(alertMetricValue('ctr', hour)).toBe(180 / 6000);
    expect(alertMetricValue('conversions', hour)).toBe(0.5);
    expect(alertMetricValue('spend_pace', hour)).toBeCloseTo(1.2, 12);
  });
});

describe('alert conditions', () => {
  const rule = (op: string, threshold: number) => parseAlertRule({ metric: 'ctr', condition: { op, threshold } });

  it('a threshold exactly met: < does not hold, <= does', () => {
    expect(alertConditionHolds(rule('<', 0.02), 0.02, null)).toBe(false);
    expect(alertConditionHolds(rule('<=', 0.02), 0.02, null)).toBe(true);
    expect(alertConditionHolds(rule('>', 0.02), 0.03, null)).toBe(true);
  });

  it('drop_pct: (trailing - value) / trailing x 100 >= threshold, the boundary included', () => {
    // trailing 0.04, value 0.01: a drop of exactly 75 %.
    expect(alertConditionHolds(rule('drop_pct', 75), 0.01, 0.04)).toBe(true);
    expect(alertConditionHolds(rule('drop_pct', 76), 0.01, 0.04)).toBe(false);
    expect(alertConditionHolds(rule('drop_pct', 50), 0.05, 0.04)).toBe(false);
  });

  it('no value, or no trailing value to drop from: cannot be told (null)', () => {
    expect(alertConditionHolds(rule('<', 1), null, 0.1)).toBeNull();
    expect(alertConditionHolds(rule('drop_pct', 50), 0, null)).toBeNull();
    expect(alertConditionHolds(rule('drop_pct', 50), 0, 0)).toBeNull();
  });
});

describe('episodes: fire once after N windows, resolve once', () => {
  it('a series over windows (for 3)', () => {
    const windows: (boolean | null)[] = [true, true, null, false, true, true, true, true, true, null, false, false, true];
    let state: AlertSeriesState = quietSeries;
    const events: [number, string][] = [];
    windows.forEach((holds, i) => {
      const step = stepAlertSeries(state, holds, 3, (i + 1) * 60_000);
      state = step.state;
      if (step.event) events.push([i, step.event]);
    });
    // Windows 0-1 hold, 2 has no data (kept), 3 breaks the streak; 4, 5, 6 hold: fires at 6; 7, 8 keep it;
    // 9 has no data; 10 resolves; 11 and 12 do nothing.
    expect(events).toEqual([
      [6, 'fire'],
      [10, 'resolve'],
    ]);
    expect(state).toEqual({ streak: 1, firingSince: null });
  });

  it('for 1 fires at the first window that holds', () => {
    expect(stepAlertSeries(quietSeries, true, 1, 5)).toEqual({ state: { streak: 1, firingSince: 5 }, event: 'fire' });
  });
});

describe('parseAlertRule', () => {
  const refuse = (value: unknown, path: string, text: RegExp) => {
    let error: unknown;
    try {
      parseAlertRule(value, ['webhook']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidAlertRuleError);
    expect((error as InvalidAlertRuleError).path).toBe(path);
    expect((error as Error).message).toMatch(text);
  };

  it('fills the defaults: every campaign, for 1, last_touch', () => {
    expect(parseAlertRule({ metric: 'invalid_share', condition: { op: '>', threshold: 0.2 }, webhook: {} }, ['webhook'])).toEqual({
      metric: 'invalid_share',
      campaign: '*',
      condition: { op: '>', threshold: 0.2 },
      for: 1,
      model: 'last_touch',
    });
  });

  it('names the bad field', () => {
    refuse({ metric: 'revenue', condition: { op: '<', threshold: 1 } }, '/metric', /one of ctr/);
    refuse({ metric: 'ctr', condition: { op: '=', threshold: 1 } }, '/condition/op', /drop_pct/);
    refuse({ metric: 'ctr', condition: { op: 'drop_pct', threshold: 150 } }, '/condition/threshold', /percentage/);
    refuse({ metric: 'ctr', condition: { op: '<', threshold: 1 }, for: 0 }, '/for', /integer 1-1440/);
    refuse({ metric: 'ctr', condition: { op: '<', threshold: 1 }, model: 'shapley' }, '/model', /only the conversions metric/);
    refuse({ metric: 'ctr', condition: { op: '<', threshold: 1 }, campaign: 'a b' }, '/campaign', /campaign id/);
    refuse({ metric: 'ctr', condition: { op: '<', threshold: 1 }, script: 'x' }, '/script', /unknown field/);
  });
});

describe('spend_pace at a window end', () => {
  it('spend of the windows ended by then / (budget x elapsed share of the budget day)', async () => {
    const { spendPaceAt, defaultBiddingSettings } = await import('../src/index.js');
    const day = Date.UTC(2026, 0, 5);
    const cell = (minute: number, spend: number) => ({ windowStart: day + minute * 60_000, channel: 'search', spend, invalidSpend: 7, clicks: 1 });
    // 06:00 UTC: a quarter of the day; 150,000 of a 1,000,000 budget spent by then (the 06:00 window is after).
    const spend = [cell(30, 100_000), cell(359, 50_000), cell(360, 999_999)];
    const budget = { dailyBudgetMicros: 1_000_000, timeZone: 'UTC', targetRoas: 1 };
    expect(spendPaceAt(day + 6 * 3_600_000, budget, spend, defaultBiddingSettings)).toBeCloseTo(0.6, 12);
    expect(spendPaceAt(day, budget, spend, defaultBiddingSettings)).toBeNull();
  });
});
