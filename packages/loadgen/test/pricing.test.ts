import { describe, expect, it } from 'vitest';
import { validateEvent } from '@sigflow/events';
import { buildCatalogue, channels } from '../src/catalogue.js';
import { channelPricing, touchpointCost } from '../src/pricing.js';
import { collect } from './helpers.js';

describe('touchpoint costs', () => {
  const events = collect({ seed: 17, events: 30_000, span: 6 * 3_600_000, campaigns: 12, bots: 0.05, duplicates: 0.02 });
  const catalogue = buildCatalogue({ seed: 17, campaigns: 12, adsPerCampaign: 4, pages: 20 });
  const adOf = new Map(catalogue.ads.map((ad) => [ad.adId, ad]));

  it('prices every ad within its channel range, per click for search and affiliate, per thousand impressions otherwise', () => {
    expect(new Set(catalogue.ads.map((a) => a.channel))).toEqual(new Set(channels));
    for (const ad of catalogue.ads) {
      const range = channelPricing[ad.channel];
      expect(ad.pricing.model).toBe(ad.channel === 'search' || ad.channel === 'affiliate' ? 'cpc' : 'cpm');
      expect(ad.pricing.priceMicros).toBeGreaterThanOrEqual(range.min * 1e6);
      expect(ad.pricing.priceMicros).toBeLessThanOrEqual(range.max * 1e6);
      expect(ad.pricing.priceMicros % 10_000).toBe(0);
    }
  });

  it('charges CPM ads per impression and CPC ads per click, 70-130 % of the list price, in contract-valid integer micros', () => {
    let charged = 0;
    for (const ev of events) {
      const e = ev.event;
      if (e.type !== 'impression' && e.type !== 'click') continue;
      const ad = adOf.get(e.ad_id)!;
      const isCharged = ad.pricing.model === 'cpm' ? e.type === 'impression' : e.type === 'click';
      if (!isCharged) {
        expect(e.cost, `${e.type} of a ${ad.pricing.model} ad`).toBeUndefined();
        continue;
      }
      charged++;
      const list = ad.pricing.model === 'cpm' ? ad.pricing.priceMicros / 1000 : ad.pricing.priceMicros;
      expect(Number.isInteger(e.cost)).toBe(true);
      expect(e.cost!).toBeGreaterThanOrEqual(Math.floor(list * 0.7));
      expect(e.cost!).toBeLessThanOrEqual(Math.ceil(list * 1.3));
      expect(validateEvent(e).ok).toBe(true);
    }
    expect(charged).toBeGreaterThan(1_000);
  });

  it('gives an event the same cost every time, copies included; prices vary from event to event', () => {
    const again = collect({ seed: 17, events: 30_000, span: 6 * 3_600_000, campaigns: 12, bots: 0.05, duplicates: 0.02 });
    expect(again.map((e) => e.json)).toEqual(events.map((e) => e.json));
    const byId = new Map<string, number | undefined>();
    for (const ev of events) {
      if (ev.event.type !== 'impression' && ev.event.type !== 'click') continue;
      if (ev.duplicate) expect(ev.event.cost).toBe(byId.get(ev.event.event_id));
      else byId.set(ev.event.event_id, ev.event.cost);
    }
    const pricing = { model: 'cpc' as const, priceMicros: 2_000_000, salt: 7 };
    const costs = new Set(Array.from({ length: 200 }, (_, i) => touchpointCost(pricing, 'click', i)));
    expect(costs.size).toBeGreaterThan(150);
    expect(Math.min(...(costs as Set<number>))).toBeGreaterThanOrEqual(1_400_000);
    expect(Math.max(...(costs as Set<number>))).toBeLessThanOrEqual(2_600_000);
  });
});
