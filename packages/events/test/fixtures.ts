import type { SigflowEvent } from '../src/index.js';

export const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

const base = { user_id: 'u-1', ts: NOW - 1_000 };
let n = 0;
const id = () => `e-${++n}`;

/** One valid event of every type, with every optional field used somewhere. */
export function oneOfEachType(): SigflowEvent[] {
  return [
    {
      event_id: id(), type: 'impression', ...base, campaign_id: 'c-1', ad_id: 'a-1', channel: 'search',
      ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0', placement: 'top', attrs: { creative: 'blue' },
    },
    { event_id: id(), type: 'click', ...base, campaign_id: 'c-1', ad_id: 'a-1', channel: 'search', cost: 1_250_000 },
    { event_id: id(), type: 'conversion', ...base, value: 49.9, currency: 'EUR' },
    { event_id: id(), type: 'conversion', ...base },
    { event_id: id(), type: 'page_view', ...base, page_id: 'home' },
    { event_id: id(), type: 'element_click', ...base, page_id: 'home', element_id: 'cta-buy' },
    { event_id: id(), type: 'scroll', ...base, page_id: 'home', depth: 75 },
    { event_id: id(), type: 'form_interaction', ...base, form_id: 'signup', action: 'submit' },
    { event_id: id(), type: 'link_follow', ...base, href: 'https://example.com/pricing' },
    { event_id: id(), type: 'mouse_move', ...base, page_id: 'home', x: 120, y: 640 },
    { event_id: id(), type: 'track', ...base, name: 'add_to_wishlist', properties: { sku: 'tent-2', price: 199.5, gift: false } },
    { event_id: id(), type: 'identify', ...base, traits: { plan: 'pro', seats: 3 } },
    { event_id: id(), type: 'alias', ...base, previous_id: 'anon-7' },
    { event_id: id(), type: 'group', ...base, group_id: 'acme', traits: { industry: 'retail' } },
  ];
}
