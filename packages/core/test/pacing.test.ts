// Pace, status and the bid multiplier against hand-computed cases (DESIGN.md "Spend and pacing",
// "Bid multiplier"). Budgets in micros: 100 EUR = 100,000,000.
import { describe, expect, it } from 'vitest';
import {
  InvalidRuleSettingsError,
  budgetDay,
  budgetProblem,
  campaignBidding,
  checkBiddingSettings,
  defaultBiddingSettings as settings,
  isKnownTimeZone,
  type Budget,
  type SpendCell,
} from '../src/index.js';

const EUR = 1_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const utc = (iso: string) => Date.parse(iso);
const budget = (dailyEur: number, targetRoas = 1, timeZone = 'UTC'): Budget => ({ dailyBudgetMicros: dailyEur * EUR, timeZone, targetRoas });
const spendCell = (windowStart: number, spendEur: number, clicks = 0, channel = 'search', invalidEur = 0): SpendCell => ({
  windowStart,
  channel,
  spend: spendEur * EUR,
  invalidSpend: invalidEur * EUR,
  clicks,
});

describe('budget day', () => {
  it('is the UTC day without a zone, and the local calendar day with one', () => {
    expect(budgetDay(utc('2026-07-14T15:20:00Z'), 'UTC')).toEqual({ start: utc('2026-07-14T00:00:00Z'), end: utc('2026-07-15T00:00:00Z') });
    // New York in July is UTC-4: 03:00Z on the 15th is still the 14th there.
    expect(budgetDay(utc('2026-07-15T03:00:00Z'), 'America/New_York')).toEqual({ start: utc('2026-07-14T04:00:00Z'), end: utc('2026-07-15T04:00:00Z') });
    // Kolkata is UTC+5:30 all year.
    expect(budgetDay(utc('2026-07-14T20:00:00Z'), 'Asia/Kolkata')).toEqual({ start: utc('2026-07-14T18:30:00Z'), end: utc('2026-07-15T18:30:00Z') });
  });

  it('lasts 23 hours on the spring-forward day and 25 on the fall-back day', () => {
    // Berlin: clocks go 02:00 -> 03:00 on 29 March 2026, 03:00 -> 02:00 on 25 October 2026.
    const spring = budgetDay(utc('2026-03-29T12:00:00Z'), 'Europe/Berlin');
    expect(spring).toEqual({ start: utc('2026-03-28T23:00:00Z'), end: utc('2026-03-29T22:00:00Z') });
    expect(spring.end - spring.start).toBe(23 * HOUR);
    const fall = budgetDay(utc('2026-10-25T12:00:00Z'), 'Europe/Berlin');
    expect(fall).toEqual({ start: utc('2026-10-24T22:00:00Z'), end: utc('2026-10-25T23:00:00Z') });
    expect(fall.end - fall.start).toBe(25 * HOUR);
  });

  it('starts at 01:00 where midnight does not exist (Santiago springs forward at midnight)', () => {
    // Chile: on 6 September 2026 clocks go from 00:00 (UTC-4) to 01:00 (UTC-3).
    expect(budgetDay(utc('2026-09-06T15:00:00Z'), 'America/Santiago')).toEqual({ start: utc('2026-09-06T04:00:00Z'), end: utc('2026-09-07T03:00:00Z') });
  });

  it('knows IANA names and refuses the rest', () => {
    for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu']) expect(isKnownTimeZone(tz), tz).toBe(true);
    for (const tz of ['', 'Mars/Olympus', 'Europe/Berlin; DROP', 'x'.repeat(65)]) expect(isKnownTimeZone(tz), tz).toBe(false);
  });
});

describe('pace and status', () => {
  const noon = utc('2026-07-14T12:00:00Z');
  const statusAt = (spentEur: number, t = noon) => {
    const b = campaignBidding({ t, budget: budget(100), spend: [spendCell(utc('2026-07-14T08:00:00Z'), spentEur)], revenue: [], settings });
    return { pace: b.pace, status: b.status, spendToday: b.spendTodayMicros };
  };

  it('is on pace spending half the budget by noon (pace 1), over above 1.1, under below 0.9', () => {
    // Half the day gone: 50 EUR expected.
    expect(statusAt(50)).toEqual({ pace: 1, status: 'on', spendToday: 50 * EUR });
    expect(statusAt(56)).toEqual({ pace: 1.12, status: 'over', spendToday: 56 * EUR });
    expect(statusAt(55)).toEqual({ pace: 1.1, status: 'on', spendToday: 55 * EUR });
    expect(statusAt(44)).toEqual({ pace: 0.88, status: 'under', spendToday: 44 * EUR });
    // 06:00: a quarter of the day, 25 EUR expected; 30 spent is pace 1.2.
    expect(statusAt(30, utc('2026-07-14T06:00:00Z')).pace).toBe(1.2);
  });

  it('is exhausted once spend today reaches the budget, whatever the pace', () => {
    expect(statusAt(100).status).toBe('exhausted');
    expect(statusAt(130).status).toBe('exhausted');
    expect(statusAt(99.99).status).toBe('over');
  });

  it('counts only the windows of the budget day: yesterday and tomorrow are not today', () => {
    const b = campaignBidding({
      t: noon,
      budget: budget(100),
      spend: [spendCell(utc('2026-07-13T23:59:00Z'), 40), spendCell(utc('2026-07-14T00:00:00Z'), 10), spendCell(utc('2026-07-15T00:00:00Z'), 40)],
      revenue: [],
      settings,
    });
    expect(b.spendTodayMicros).toBe(10 * EUR);
    expect(b.pace).toBe(0.2);
    expect(b.status).toBe('under');
  });
});

describe('bid multiplier', () => {
  const noon = utc('2026-07-14T12:00:00Z');
  /** One search channel: `spendW` EUR and `clicks` in the last hour, revenue in it, and what was spent today before. */
  const multiplierOf = (o: { spendW: number; revenue: number; clicks?: number; earlierToday?: number; target?: number; dailyEur?: number; at?: number }) => {
    const t = o.at ?? noon;
    const b = campaignBidding({
      t,
      budget: budget(o.dailyEur ?? 100, o.target ?? 1),
      spend: [spendCell(t - 30 * MINUTE, o.spendW, o.clicks ?? 50), spendCell(utc('2026-07-14T02:00:00Z'), o.earlierToday ?? 0)],
      revenue: [{ windowStart: t - 10 * MINUTE, channel: 'search', revenue: o.revenue }],
      settings,
    });
    return b.channels[0]!;
  };

  it('is roas / target x 1 / pace, rounded to 0.01, with every input', () => {
    // Spend today 10 + 30 = 40 EUR of an expected 50: pace 0.8, pace factor 1.25. ROAS 30 / 10 = 3,
    // target 1.5: ROAS factor 2. 2 x 1.25 = 2.5.
    const c = multiplierOf({ spendW: 10, revenue: 30, earlierToday: 30, target: 1.5 });
    expect(c).toEqual({
      channel: 'search',
      spendTodayMicros: 40 * EUR,
      invalidSpendTodayMicros: 0,
      multiplier: 2.5,
      reason: 'roas_and_pace',
      inputs: { spendMicros: 10 * EUR, revenue: 30, clicks: 50, roas: 3, targetRoas: 1.5, minClicks: 20, pace: 0.8, roasFactor: 2, paceFactor: 1.25 },
    });
    // ROAS 13 / 10 = 1.3; pace 52.5 / 50 = 1.05, factor 1 / 1.05 = 0.95238...; 1.3 x 0.95238 = 1.2381 -> 1.24.
    expect(multiplierOf({ spendW: 10, revenue: 13, earlierToday: 42.5 }).multiplier).toBe(1.24);
  });

  it('clamps the ROAS factor to [0.25, 4] and the pace factor to [0.5, 1.5], both ways', () => {
    // Pace 0.8 (factor 1.25) throughout the first two.
    const high = multiplierOf({ spendW: 10, revenue: 100, earlierToday: 30 });
    expect([high.inputs.roas, high.inputs.roasFactor, high.multiplier]).toEqual([10, 4, 5]);
    const low = multiplierOf({ spendW: 10, revenue: 1, earlierToday: 30 });
    // 0.25 x 1.25 = 0.3125 -> 0.31.
    expect([low.inputs.roas, low.inputs.roasFactor, low.multiplier]).toEqual([0.1, 0.25, 0.31]);
    // ROAS 2 throughout. Spend today 12.5 of 50 expected: pace 0.25, 1 / pace = 4, clamped to 1.5.
    const slow = multiplierOf({ spendW: 10, revenue: 20, earlierToday: 2.5 });
    expect([slow.inputs.pace, slow.inputs.paceFactor, slow.multiplier]).toEqual([0.25, 1.5, 3]);
    // At 06:00 a quarter of the day has gone: spend today 60 of 25 expected, pace 2.4, 1 / pace =
    // 0.417, clamped to 0.5 (the budget of 100 is not reached): 2 x 0.5 = 1.
    const fast = multiplierOf({ spendW: 10, revenue: 20, earlierToday: 50, at: utc('2026-07-14T06:00:00Z') });
    expect([fast.inputs.pace, fast.inputs.paceFactor, fast.multiplier]).toEqual([2.4, 0.5, 1]);
    // Not clamped: pace 1.8 (90 of 50 at noon) gives 1 / 1.8 = 0.556; 2 x 0.556 = 1.11.
    expect(multiplierOf({ spendW: 10, revenue: 20, earlierToday: 80 }).multiplier).toBe(1.11);
  });

  it('is 0 once the budget is exhausted, whatever the data', () => {
    const exhausted = multiplierOf({ spendW: 10, revenue: 100, earlierToday: 90 });
    // 10 + 90 = 100 EUR, the whole budget, by noon: pace 2.
    expect(exhausted).toMatchObject({ multiplier: 0, reason: 'exhausted', inputs: { roasFactor: null, paceFactor: null, pace: 2, roas: 10 } });
    expect(multiplierOf({ spendW: 10, revenue: 100, clicks: 3, earlierToday: 95 })).toMatchObject({ multiplier: 0, reason: 'exhausted' });
  });

  it('is 1 with fewer than 20 valid clicks in the window, or no spend in it (insufficient data)', () => {
    expect(multiplierOf({ spendW: 10, revenue: 100, clicks: 19 })).toMatchObject({ multiplier: 1, reason: 'insufficient_data', inputs: { clicks: 19, roas: 10 } });
    expect(multiplierOf({ spendW: 10, revenue: 100, clicks: 20 })).toMatchObject({ reason: 'roas_and_pace' });
    expect(multiplierOf({ spendW: 0, revenue: 100, clicks: 40, earlierToday: 30 })).toMatchObject({ multiplier: 1, reason: 'insufficient_data', inputs: { roas: null } });
  });

  it('reads the trailing hour by event time: windows starting in [t - 1 h, t]', () => {
    const t = noon;
    const b = campaignBidding({
      t,
      budget: budget(1_000),
      spend: [spendCell(t - HOUR - MINUTE, 5, 100), spendCell(t - HOUR, 2, 10), spendCell(t, 3, 10)],
      revenue: [
        { windowStart: t - HOUR - MINUTE, channel: 'search', revenue: 1_000 },
        { windowStart: t - HOUR, channel: 'search', revenue: 10 },
      ],
      settings,
    });
    expect(b.channels[0]!.inputs).toMatchObject({ spendMicros: 5 * EUR, clicks: 20, revenue: 10, roas: 2 });
  });
});

describe('a budget in a time zone', () => {
  it('paces a New York campaign over the New York day, with its own channels', () => {
    // 03:00Z on 15 July is 23:00 on 14 July in New York (UTC-4): 23 of 24 hours gone.
    const t = utc('2026-07-15T03:00:00Z');
    const b = campaignBidding({
      t,
      budget: budget(240, 2, 'America/New_York'),
      spend: [
        spendCell(utc('2026-07-14T03:30:00Z'), 500), // 23:30 on the 13th there: yesterday
        spendCell(utc('2026-07-14T05:00:00Z'), 100, 0, 'search', 4), // 01:00 on the 14th
        spendCell(utc('2026-07-14T20:00:00Z'), 30, 0, 'display'),
        spendCell(utc('2026-07-15T02:30:00Z'), 20, 25, 'search'), // 22:30, in the last hour
        spendCell(utc('2026-07-15T04:00:00Z'), 70), // 00:00 on the 15th there: tomorrow
      ],
      revenue: [{ windowStart: utc('2026-07-15T02:45:00Z'), channel: 'search', revenue: 60 }],
      settings,
    });
    expect(b.ranges.day).toEqual({ start: utc('2026-07-14T04:00:00Z'), end: utc('2026-07-15T04:00:00Z') });
    expect(b.elapsed).toBeCloseTo(23 / 24, 12);
    // 150 EUR of the 230 expected by 23:00.
    expect(b.spendTodayMicros).toBe(150 * EUR);
    expect(b.invalidSpendTodayMicros).toBe(4 * EUR);
    expect(b.pace).toBeCloseTo(150 / 230, 12);
    expect(b.status).toBe('under');
    // search: ROAS 60 / 20 = 3, target 2 -> 1.5; pace 0.652 -> 1 / pace 1.533, clamped to 1.5; 2.25.
    expect(b.channels.map((c) => [c.channel, c.spendTodayMicros, c.multiplier, c.reason])).toEqual([
      ['display', 30 * EUR, 1, 'insufficient_data'],
      ['search', 120 * EUR, 2.25, 'roas_and_pace'],
    ]);
  });
});

describe('budgets and settings that cannot work', () => {
  it('names the field of a budget that is out of range', () => {
    expect(budgetProblem(budget(100))).toBeNull();
    expect(budgetProblem({ ...budget(100), dailyBudgetMicros: 1.5 })?.field).toBe('dailyBudgetMicros');
    expect(budgetProblem({ ...budget(100), dailyBudgetMicros: -1 })?.field).toBe('dailyBudgetMicros');
    expect(budgetProblem({ ...budget(100), timeZone: 'Europe/Atlantis' })).toEqual({ field: 'timeZone', message: expect.stringContaining('IANA') });
    expect(budgetProblem({ ...budget(100), targetRoas: 0 })?.field).toBe('targetRoas');
  });

  it('refuses bidding settings no rule can use', () => {
    expect(checkBiddingSettings(settings)).toBe(settings);
    expect(() => checkBiddingSettings({ ...settings, windowMs: 0 })).toThrow(InvalidRuleSettingsError);
    expect(() => checkBiddingSettings({ ...settings, roasFactorMin: 5 })).toThrow(/roasFactorMin/);
    expect(() => checkBiddingSettings({ ...settings, model: 'markov' as never })).toThrow(/model/);
  });
});
