import { describe, expect, it } from 'vitest';
import { createPartitionState, currentWatermark, defaultRuleSettings as settings, foldCampaignWindows, isLateEvent, windowStart } from '../src/index.js';
import { advanceWatermark } from '../src/windows/watermark.js';
import { windowEnd } from '../src/windows/tumbling-window.js';
import { MINUTE, SECOND, T0, click, conversion, elementClick, impression, outcomeOf, runSpeed } from './helpers.js';

describe('tumbling windows', () => {
  it('are epoch-aligned [start, start + 60 s)', () => {
    expect(windowStart(0, MINUTE)).toBe(0);
    expect(windowStart(59_999, MINUTE)).toBe(0);
    expect(windowStart(60_000, MINUTE)).toBe(60_000);
    expect(windowStart(T0 + 61_234, MINUTE)).toBe(T0 + MINUTE);
    expect(windowEnd(59_999, MINUTE)).toBe(60_000);
  });
});

describe('watermark and lateness', () => {
  it('watermark = max event time seen - 5 s, and never moves back', () => {
    const p = createPartitionState();
    expect(currentWatermark(p, settings)).toBeNull();
    advanceWatermark(p, 100_000);
    advanceWatermark(p, 90_000);
    expect(currentWatermark(p, settings)).toBe(95_000);
  });

  it('late = the window ended MORE than 60 s before the watermark', () => {
    // Window [0, 60 000) ends at 60 000; it is still open while watermark - 60 000 <= 60 000.
    expect(isLateEvent(59_999, 120_000, settings)).toBe(false);
    expect(isLateEvent(0, 120_001, settings)).toBe(true);
    expect(isLateEvent(59_999, 120_001, settings)).toBe(true);
    expect(isLateEvent(60_000, 120_001, settings)).toBe(false); // next window
    expect(isLateEvent(0, null, settings)).toBe(false);
  });

  it('in a partition: on time until an event at windowEnd + 65 s has been seen', () => {
    const run = (maxTs: number) =>
      runSpeed([impression({ id: 'now', ts: maxTs, user: 'other' }), impression({ id: 'old', ts: T0 })]).outcomes;
    expect(outcomeOf(run(T0 + MINUTE + 65 * SECOND), 'old').late).toBe(false);
    expect(outcomeOf(run(T0 + MINUTE + 65 * SECOND + 1), 'old').late).toBe(true);
  });
});

describe('a late event', () => {
  const lateAt = T0 + 10 * MINUTE; // the partition has already seen this
  const { outcomes, users } = runSpeed([
    impression({ id: 'front', ts: lateAt, user: 'other' }),
    impression({ id: 'i-late', ts: T0, ad: 'a1' }),
    elementClick({ id: 'e-late', ts: T0 + 1, page: 'home', element: 'buy' }),
    conversion({ id: 'v-late', ts: T0 + 2, value: 10 }),
    // An on-time click that joins the late impression.
    click({ id: 'k-now', ts: lateAt, ad: 'a1' }),
  ]);

  it('is still a signal, flagged late', () => {
    const o = outcomeOf(outcomes, 'i-late');
    expect(o.late).toBe(true);
    expect(o.signal).toMatchObject({ event_id: 'i-late', late: true, invalid: false });
  });

  it('stays out of window metrics, heatmaps and attribution', () => {
    expect(outcomeOf(outcomes, 'i-late').windowMetric).toBeNull();
    expect(outcomeOf(outcomes, 'e-late').heatmap).toBeNull();
    expect(outcomeOf(outcomes, 'v-late').attribution).toBeNull();
  });

  it('still updates user state: its impression joins a later click, its conversion is counted', () => {
    const k = outcomeOf(outcomes, 'k-now');
    expect(k.late).toBe(false);
    expect(k.join?.impression_event_id).toBe('i-late');
    expect(k.status).toBe('valid');
    expect(users.get('u1')?.conversions).toEqual({ count: 1, value: 10 });
  });
});

describe('the per-campaign rollup of window metrics', () => {
  const row = (windowStart: number, campaign_id: string, ad_id: string, impressions: number, clicks: number, invalidClicks = 0) => ({
    windowStart,
    campaign_id,
    ad_id,
    impressions,
    clicks,
    invalidImpressions: 0,
    invalidClicks,
  });

  it('sums the ads of each (window, campaign), sorted by window then campaign', () => {
    const rolled = foldCampaignWindows([row(T0 + MINUTE, 'c1', 'a2', 4, 1), row(T0, 'c2', 'a9', 7, 0), row(T0, 'c1', 'a1', 2, 1, 3), row(T0, 'c1', 'a2', 5, 0)]);
    expect(rolled).toEqual([
      { windowStart: T0, campaign_id: 'c1', impressions: 7, clicks: 1, invalidImpressions: 0, invalidClicks: 3 },
      { windowStart: T0, campaign_id: 'c2', impressions: 7, clicks: 0, invalidImpressions: 0, invalidClicks: 0 },
      { windowStart: T0 + MINUTE, campaign_id: 'c1', impressions: 4, clicks: 1, invalidImpressions: 0, invalidClicks: 0 },
    ]);
  });
});
