import { channels, type Channel } from './channels.js';
import { Prng } from './prng.js';
import { PricingDraws, type AdPricing } from './pricing.js';

export { channels, type Channel };

/** One ad of a campaign. */
export interface Ad {
  /** Position in {@link Catalogue.ads}. */
  readonly index: number;
  readonly adId: string;
  readonly campaignId: string;
  readonly channel: Channel;
  /** Probability that an impression of this ad is clicked, in [1 %, 4 %] (inside the 0.5-5 % band). */
  readonly ctr: number;
  /** Relative popularity: how often the ad is shown compared to the others. */
  readonly weight: number;
  /** The page a click on this ad lands on. */
  readonly landingPage: Page;
  /** Where the ad is shown (the `placement` field). */
  readonly placement: string;
  /** How the ad is bought and at what price: its impressions' or clicks' `cost`. */
  readonly pricing: AdPricing;
}

export interface Campaign {
  readonly campaignId: string;
  readonly channel: Channel;
  readonly ads: readonly Ad[];
}

/** A landing page: its named elements, and a form on some pages. */
export interface Page {
  readonly index: number;
  readonly pageId: string;
  readonly elements: readonly string[];
  readonly formId: string | undefined;
}

export interface Catalogue {
  readonly campaigns: readonly Campaign[];
  readonly ads: readonly Ad[];
  readonly pages: readonly Page[];
  /** The page users land on when they come back to buy. */
  readonly checkoutPage: Page;
}

export interface CatalogueOptions {
  readonly seed: number;
  readonly campaigns: number;
  readonly adsPerCampaign: number;
  readonly pages: number;
}

/** Named page elements (`element_id`s) the catalogue's pages are built from. */
export const elementNames = [
  'cta-primary',
  'cta-secondary',
  'nav-home',
  'nav-pricing',
  'nav-products',
  'hero-image',
  'search-box',
  'product-card-1',
  'product-card-2',
  'product-card-3',
  'video-play',
  'newsletter-signup',
  'footer-contact',
  'chat-open',
] as const;
const formNames = ['form-signup', 'form-lead', 'form-quote', 'form-newsletter'] as const;
const placements: Record<Channel, readonly string[]> = {
  search: ['serp-top', 'serp-bottom'],
  social: ['feed', 'stories', 'sidebar'],
  display: ['banner-top', 'sidebar-right', 'in-article'],
  video: ['pre-roll', 'mid-roll'],
  email: ['newsletter-hero', 'newsletter-footer'],
  affiliate: ['partner-widget', 'comparison-table'],
};

/**
 * Builds the catalogue of campaigns, ads (each with its own CTR and price), channels and landing
 * pages. Ids are stable (`cmp-1`, `ad-1-2`, `page-3`); CTRs, weights and page layouts
 * depend on the seed.
 */
export function buildCatalogue(options: CatalogueOptions): Catalogue {
  const rng = new Prng(options.seed, 0xca7a);
  const pageCount = Math.max(2, options.pages);
  const pages: Page[] = [];
  for (let p = 0; p < pageCount; p++) {
    const count = rng.int(4, 8);
    const pool = [...elementNames];
    const elements: string[] = [];
    for (let e = 0; e < count; e++) elements.push(pool.splice(rng.int(0, pool.length - 1), 1)[0] as string);
    const formId = p === 0 || rng.chance(0.5) ? rng.pick(formNames) : undefined;
    pages.push({ index: p, pageId: `page-${p + 1}`, elements, formId });
  }
  // The first page is the checkout page; landing pages are the others.
  const checkoutPage: Page = { ...pages[0]!, pageId: 'page-checkout', formId: 'form-checkout' };
  pages[0] = checkoutPage;

  const campaigns: Campaign[] = [];
  const ads: Ad[] = [];
  const prices = new PricingDraws(options.seed);
  for (let c = 0; c < Math.max(1, options.campaigns); c++) {
    const campaignId = `cmp-${c + 1}`;
    const channel = channels[c % channels.length] as Channel;
    const campaignAds: Ad[] = [];
    for (let a = 0; a < Math.max(1, options.adsPerCampaign); a++) {
      const ad: Ad = {
        index: ads.length,
        adId: `ad-${c + 1}-${a + 1}`,
        campaignId,
        channel,
        ctr: Math.round(rng.between(0.01, 0.04) * 10_000) / 10_000,
        weight: rng.between(1, 3),
        landingPage: pages[1 + rng.int(0, pageCount - 2)] as Page,
        placement: rng.pick(placements[channel]),
        pricing: prices.next(channel),
      };
      campaignAds.push(ad);
      ads.push(ad);
    }
    campaigns.push({ campaignId, channel, ads: campaignAds });
  }
  return { campaigns, ads, pages, checkoutPage };
}

/** Picks ads by their weight (a cumulative table and a binary search). */
export class AdPicker {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(private readonly ads: readonly Ad[]) {
    this.cumulative = new Float64Array(ads.length);
    let sum = 0;
    ads.forEach((ad, i) => {
      sum += ad.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  pick(rng: Prng): Ad {
    const x = rng.float() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return this.ads[lo] as Ad;
  }
}
