import { describe, expect, it } from 'vitest';
import { generateEvents } from '../src/index.js';

const MIN = 60_000;
const start = Date.UTC(2026, 2, 1, 8, 0, 0);

function clicksPerMinute(ctrDrop?: { from: number; to: number; factor: number; campaignId?: string }) {
  const stream = generateEvents({ seed: 5, events: 40_000, start, span: 60 * MIN, campaigns: 2, adsPerCampaign: 2, partitions: 4, rules: undefined, ...(ctrDrop ? { ctrDrop } : {}) });
  const byMinute = new Map<string, { impressions: number; clicks: number }>();
  for (const g of stream) {
    if (g.duplicate || (g.event.type !== 'impression' && g.event.type !== 'click')) continue;
    const key = `${g.event.campaign_id}\t${Math.floor((g.event.ts - start) / MIN)}`;
    const row = byMinute.get(key) ?? { impressions: 0, clicks: 0 };
    row[g.event.type === 'impression' ? 'impressions' : 'clicks']++;
    byMinute.set(key, row);
  }
  return { byMinute, catalogue: stream.catalogue };
}

describe('ctrDrop: a click-through drop by construction', () => {
  it('impressions shown in the drop are not clicked (factor 0), only for the campaign named; the rest is unchanged', () => {
    const base = clicksPerMinute();
    const campaign = base.catalogue.campaigns[0]!.campaignId;
    const other = base.catalogue.campaigns[1]!.campaignId;
    const dropped = clicksPerMinute({ from: start + 30 * MIN, to: start + 40 * MIN, factor: 0, campaignId: campaign });
    const sum = (m: typeof base.byMinute, c: string, from: number, to: number, what: 'clicks' | 'impressions') => {
      let n = 0;
      for (let i = from; i < to; i++) n += m.get(`${c}\t${i}`)?.[what] ?? 0;
      return n;
    };
    // Clicks come 1.5-20 s (spaced a few seconds per user) after their impression: the minute after the drop starts still has some.
    expect(sum(dropped.byMinute, campaign, 31, 40, 'clicks')).toBe(0);
    expect(sum(base.byMinute, campaign, 31, 40, 'clicks')).toBeGreaterThan(20);
    expect(sum(dropped.byMinute, campaign, 31, 40, 'impressions')).toBeGreaterThan(1_000);
    expect(sum(dropped.byMinute, campaign, 45, 60, 'clicks')).toBeGreaterThan(20);
    expect(sum(dropped.byMinute, other, 31, 40, 'clicks')).toBeGreaterThan(20);
  });

  it('refuses a drop that ends before it starts or a factor outside [0, 1]', () => {
    expect(() => generateEvents({ events: 10, ctrDrop: { from: 2, to: 1, factor: 0 } })).toThrow(/from < to/);
    expect(() => generateEvents({ events: 10, ctrDrop: { from: 1, to: 2, factor: 2 } })).toThrow(/factor/);
  });
});
