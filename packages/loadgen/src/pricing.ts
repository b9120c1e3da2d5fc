import type { Channel } from './channels.js';
import { Prng } from './prng.js';

/** How an ad is bought: per thousand impressions (CPM) or per click (CPC). */
export type PricingModel = 'cpm' | 'cpc';

/** An ad's price: the model and its list price in micros (per 1,000 impressions for CPM, per click for CPC). */
export interface AdPricing {
  readonly model: PricingModel;
  readonly priceMicros: number;
  /** Mixed into each event's price variation, so two ads at one price clear differently. */
  readonly salt: number;
}

const EUR = 1_000_000;

/**
 * How each channel is bought and the range its ads' list prices are drawn from (EUR): search and
 * affiliate per click, the others per thousand impressions, at the levels common in 2024-2026
 * market reports (search CPC 0.8-3.5, social CPM 5-12, display 1.5-6, video 12-30, email
 * sponsorships 0.5-2, affiliate CPC 0.3-1.5).
 */
export const channelPricing: Readonly<Record<Channel, { readonly model: PricingModel; readonly min: number; readonly max: number }>> = {
  search: { model: 'cpc', min: 0.8, max: 3.5 },
  social: { model: 'cpm', min: 5, max: 12 },
  display: { model: 'cpm', min: 1.5, max: 6 },
  video: { model: 'cpm', min: 12, max: 30 },
  email: { model: 'cpm', min: 0.5, max: 2 },
  affiliate: { model: 'cpc', min: 0.3, max: 1.5 },
};

/**
 * Draws each ad's pricing from the channel's range, with a PRNG of its own: the catalogue's other
 * draws (CTRs, weights, pages) stay what they were for a seed.
 */
export class PricingDraws {
  private readonly rng: Prng;

  constructor(seed: number) {
    this.rng = new Prng(seed, 0xc057);
  }

  next(channel: Channel): AdPricing {
    const { model, min, max } = channelPricing[channel];
    // List prices in whole cents.
    const priceMicros = Math.round(this.rng.between(min, max) * 100) * (EUR / 100);
    return { model, priceMicros, salt: this.rng.int(1, 0x7fffffff) };
  }
}

/** A 32-bit mix of two integers (splitmix32's finalizer): a stable pseudo-random value per event. */
function mix(a: number, b: number): number {
  let z = (Math.imul(a, 0x9e3779b1) ^ b) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * What one impression or click of the ad costs (integer micros), or undefined when the ad is not
 * bought that way (impressions of a CPC ad, clicks of a CPM ad are free). Each event clears at
 * 70-130 % of the list price (auctions vary), decided by the event's number: the same event
 * always costs the same, whatever the sink, and copies carry the same cost.
 */
export function touchpointCost(pricing: AdPricing, type: 'impression' | 'click', eventNumber: number): number | undefined {
  const charged = pricing.model === 'cpm' ? type === 'impression' : type === 'click';
  if (!charged) return undefined;
  const variation = 0.7 + (0.6 * mix(eventNumber, pricing.salt)) / 0x1_0000_0000;
  const list = pricing.model === 'cpm' ? pricing.priceMicros / 1000 : pricing.priceMicros;
  return Math.round(list * variation);
}
