import { Analytics } from '@segment/analytics-node';
import { Prng } from './prng.js';

/** Demo shoppers sent through Segment's tracking API with Segment's own Node client. */
export interface ShoppersOptions {
  /** The collector's base URL (analytics-node posts to `<collector>/v1/batch`). */
  readonly collectorUrl: string;
  /** A write key: one of the collector's site keys. */
  readonly writeKey: string;
  /** Shopper visits started per second. */
  readonly visitsPerSecond: number;
  /** Stop after this long (ms). */
  readonly durationMs: number;
  readonly seed: number;
  /** Called with every delivery failure the client reports. */
  readonly onError?: (err: unknown) => void;
}

const queries = ['tent', 'sleeping bag', 'headlamp', 'hiking boots', 'rain jacket', 'stove', 'water filter', 'backpack'];
const items = ['tent-2p', 'tent-4p', 'bag-down', 'lamp-400', 'boots-gtx', 'jacket-shell', 'stove-mini', 'filter-squeeze', 'pack-45l'];
const plans = ['free', 'plus', 'pro'];
const promotions = [
  { promotion_id: 'spring-sale', creative: 'hero-banner', campaign: { name: 'spring-sale', medium: 'email', source: 'newsletter' } },
  { promotion_id: 'boots-week', creative: 'side-tile', campaign: { name: 'boots-week', medium: 'social', source: 'instagram' } },
];

/** One visit: who the shopper is, searches, items viewed and wishlisted, sometimes a promotion and an order. */
function visit(analytics: Analytics, rng: Prng, shopper: number): void {
  const userId = `shopper-${shopper}`;
  const at = (offsetMs: number) => new Date(Date.now() - 60_000 + offsetMs);
  analytics.identify({ userId, traits: { plan: plans[rng.int(0, plans.length - 1)]!, newsletter: rng.chance(0.4) }, timestamp: at(0) });
  analytics.page({ userId, name: 'Shop', properties: { path: '/shop' }, timestamp: at(1_000) });
  const searches = rng.int(1, 3);
  for (let i = 0; i < searches; i++) analytics.track({ userId, event: 'search', properties: { query: queries[rng.int(0, queries.length - 1)]! }, timestamp: at(2_000 + i * 3_000) });
  const item = items[rng.int(0, items.length - 1)]!;
  analytics.track({ userId, event: 'view_item', properties: { sku: item, price: rng.int(20, 400) }, timestamp: at(12_000) });
  if (rng.chance(0.3)) analytics.track({ userId, event: 'add_to_wishlist', properties: { sku: item }, timestamp: at(15_000) });
  if (!rng.chance(0.5)) return;
  const promotion = promotions[rng.int(0, promotions.length - 1)]!;
  const { campaign, ...properties } = promotion;
  analytics.track({ userId, event: 'Promotion Viewed', properties, context: { campaign }, timestamp: at(20_000) });
  if (!rng.chance(0.5)) return;
  analytics.track({ userId, event: 'Promotion Clicked', properties, context: { campaign }, timestamp: at(25_000) });
  if (rng.chance(0.4)) analytics.track({ userId, event: 'Order Completed', properties: { order_id: `o-${shopper}`, revenue: rng.int(30, 500), currency: 'EUR' }, timestamp: at(40_000) });
}

/**
 * Sends shopper visits for `durationMs` through analytics-node, unchanged, pointed at the
 * collector: custom events (search, view_item, add_to_wishlist), traits, pages and Segment's
 * e-commerce events (promotions, orders). Resolves once every message was delivered (or given up).
 */
export async function runShoppers(options: ShoppersOptions): Promise<{ visits: number }> {
  const analytics = new Analytics({ writeKey: options.writeKey, host: options.collectorUrl, flushAt: 50, flushInterval: 1_000 });
  if (options.onError) analytics.on('error', options.onError);
  const rng = new Prng(options.seed);
  const end = Date.now() + options.durationMs;
  const base = options.seed * 1_000_000;
  let visits = 0;
  while (Date.now() < end) {
    visit(analytics, rng, base + rng.int(0, 5_000));
    visits++;
    await new Promise((resolve) => setTimeout(resolve, 1_000 / options.visitsPerSecond));
  }
  await analytics.closeAndFlush();
  return { visits };
}
