import { describe, expect, it } from 'vitest';
import { channelOf, eventTimeOf, mapSegmentMessage, type SegmentRequestContext } from '../src/segment/segment-message.js';

const RECEIVED = Date.parse('2026-11-25T12:00:10.000Z');
const context: SegmentRequestContext = {
  site: 'shop',
  mapping: undefined,
  receivedAt: RECEIVED,
  batchSentAt: undefined,
  ip: '203.0.113.9',
  userAgent: 'curl/8',
  fromBrowser: false,
};

describe("Segment's wire format mapped to the contract", () => {
  it('corrects the event time for the client clock: receivedAt - (sentAt - timestamp)', () => {
    // The client's clock is 5 minutes fast: it stamped 12:05:00, sent at 12:05:04, received at 12:00:10.
    const message = { timestamp: '2026-11-25T12:05:00.000Z', sentAt: '2026-11-25T12:05:04.000Z' };
    expect(eventTimeOf(message, RECEIVED, undefined)).toBe(Date.parse('2026-11-25T12:00:06.000Z'));
    // The batch's sentAt stands in for a message without its own.
    expect(eventTimeOf({ timestamp: '2026-11-25T12:05:00.000Z' }, RECEIVED, Date.parse('2026-11-25T12:05:04.000Z'))).toBe(Date.parse('2026-11-25T12:00:06.000Z'));
    expect(eventTimeOf({ timestamp: '2026-11-25T11:00:00.000Z' }, RECEIVED, undefined)).toBe(Date.parse('2026-11-25T11:00:00.000Z'));
    expect(eventTimeOf({}, RECEIVED, undefined)).toBe(RECEIVED);
    expect(eventTimeOf({ timestamp: 'yesterday-ish' }, RECEIVED, undefined)).toMatch(/not a time/);
  });

  it('maps a track call: messageId as event_id, userId over anonymousId (both kept), properties and UTM kept', () => {
    const mapped = mapSegmentMessage(
      {
        type: 'track',
        event: 'Products Searched',
        messageId: 'm-1',
        userId: 'u-1',
        anonymousId: 'anon-1',
        timestamp: '2026-11-25T12:00:00.000Z',
        properties: { query: 'red shoes' },
        context: { campaign: { source: 'Newsletter', medium: 'email', name: 'winter' }, ip: '198.51.100.4', userAgent: 'app/1' },
      },
      context,
    );
    expect(mapped).toEqual({
      ok: true,
      event: {
        type: 'track',
        name: 'Products Searched',
        properties: { query: 'red shoes' },
        event_id: 'm-1',
        user_id: 'u-1',
        ts: Date.parse('2026-11-25T12:00:00.000Z'),
        // A server's call: context.ip and context.userAgent are the person's.
        ip: '198.51.100.4',
        user_agent: 'app/1',
        attrs: { site: 'shop', anonymous_id: 'anon-1', utm_source: 'Newsletter', utm_medium: 'email', utm_campaign: 'winter', timestamp: '2026-11-25T12:00:00.000Z' },
      },
    });
  });

  it("a browser's call keeps the request's address and user agent, not the body's; a server's call only the body's", () => {
    const page = { type: 'page', anonymousId: 'a', messageId: 'm', properties: { path: '/cart' } };
    const browser = mapSegmentMessage({ ...page, context: { ip: '1.2.3.4', userAgent: 'fake' } }, { ...context, fromBrowser: true });
    expect(browser.ok && [browser.event['ip'], browser.event['user_agent'], browser.event['page_id'], browser.event['user_id']]).toEqual(['203.0.113.9', 'curl/8', '/cart', 'a']);
    // analytics-node's own address and agent are not the person's: neither is kept.
    const server = mapSegmentMessage(page, context);
    expect(server.ok && ['ip' in server.event, 'user_agent' in server.event]).toEqual([false, false]);
  });

  it("maps Segment's e-commerce spec: promotions to touchpoints, Order Completed to a conversion", () => {
    const campaign = { context: { campaign: { name: 'spring', medium: 'Paid Social!' } } };
    const viewed = mapSegmentMessage({ type: 'track', event: 'Promotion Viewed', userId: 'u', messageId: 'v', properties: { creative: 'banner-2' }, ...campaign }, context);
    expect(viewed.ok && viewed.event).toMatchObject({ type: 'impression', campaign_id: 'spring', ad_id: 'banner-2', channel: 'paid_social_' });
    const clicked = mapSegmentMessage({ type: 'track', event: 'Promotion Clicked', userId: 'u', messageId: 'c', properties: { promotion_id: 'promo-9', creative: 'banner-2' } }, context);
    expect(clicked.ok && clicked.event).toMatchObject({ type: 'click', campaign_id: 'promo-9', ad_id: 'banner-2', channel: 'unknown' });
    const order = mapSegmentMessage({ type: 'track', event: 'Order Completed', userId: 'u', messageId: 'o', properties: { total: 30, revenue: 25.5, currency: 'eur' } }, context);
    expect(order.ok && order.event).toMatchObject({ type: 'conversion', value: 25.5, currency: 'EUR' });
    const byTotal = mapSegmentMessage({ type: 'track', event: 'Order Completed', userId: 'u', messageId: 'o2', properties: { total: '30' } }, context);
    expect(byTotal.ok && byTotal.event['value']).toBe(30);
    const noCreative = mapSegmentMessage({ type: 'track', event: 'Promotion Clicked', userId: 'u', messageId: 'c', properties: { promotion_id: 'p' } }, context);
    expect(noCreative).toEqual({ ok: false, code: 'segment_mapping', reason: 'Promotion Clicked needs properties.creative (its ad)' });
  });

  it("follows the write key's mapping over the default", () => {
    const mapping = new Map([
      ['Products Searched', { type: 'track' as const, name: 'search' }],
      ['Order Completed', { type: 'track' as const }],
    ]);
    const renamed = mapSegmentMessage({ type: 'track', event: 'Products Searched', userId: 'u', messageId: 's' }, { ...context, mapping });
    expect(renamed.ok && renamed.event).toMatchObject({ type: 'track', name: 'search', name_original: 'Products Searched' });
    const kept = mapSegmentMessage({ type: 'track', event: 'Order Completed', userId: 'u', messageId: 'o' }, { ...context, mapping });
    expect(kept.ok && kept.event).toMatchObject({ type: 'track', name: 'Order Completed' });
  });

  it('maps identify, alias and group; refuses what has no place, each with its reason', () => {
    expect(mapSegmentMessage({ type: 'identify', userId: 'u', messageId: 'i', traits: { plan: 'pro' } }, context)).toMatchObject({ ok: true, event: { type: 'identify', traits: { plan: 'pro' } } });
    expect(mapSegmentMessage({ type: 'alias', userId: 'u', previousId: 'anon', messageId: 'a' }, context)).toMatchObject({ ok: true, event: { type: 'alias', previous_id: 'anon' } });
    expect(mapSegmentMessage({ type: 'group', userId: 'u', groupId: 'acme', messageId: 'g' }, context)).toMatchObject({ ok: true, event: { type: 'group', group_id: 'acme' } });
    expect(mapSegmentMessage({ type: 'track', event: 'x', messageId: 'n' }, context)).toEqual({ ok: false, code: 'missing_identity', reason: 'a message needs a userId or an anonymousId' });
    expect(mapSegmentMessage({ type: 'track', userId: 'u' }, context)).toMatchObject({ ok: false, reason: 'a track call needs its event name (event)' });
    expect(mapSegmentMessage({ type: 'alias', userId: 'u' }, context)).toMatchObject({ ok: false, reason: 'an alias call needs previousId' });
    expect(mapSegmentMessage({ type: 'page', userId: 'u' }, context)).toMatchObject({ ok: false, reason: 'a page call needs properties.path or a name (its page_id)' });
    expect(mapSegmentMessage({ type: 'purchase', userId: 'u' }, context)).toMatchObject({ ok: false, code: 'segment_mapping' });
  });

  it('gives a message without messageId an id derived from its content, so its retries dedupe', () => {
    const message = { type: 'track', event: 'x', userId: 'u', timestamp: '2026-11-25T12:00:00.000Z' };
    const first = mapSegmentMessage(message, context);
    const retried = mapSegmentMessage({ ...message }, { ...context, receivedAt: RECEIVED + 5_000 });
    const other = mapSegmentMessage({ ...message, event: 'y' }, context);
    expect(first.ok && first.event['event_id']).toMatch(/^seg-[0-9a-f]{40}$/);
    expect(first.ok && retried.ok && first.event['event_id'] === retried.event['event_id']).toBe(true);
    expect(first.ok && other.ok && first.event['event_id'] !== other.event['event_id']).toBe(true);
  });

  it('normalizes a channel as names are, within the contract', () => {
    expect(channelOf({ medium: 'CPC' })).toBe('cpc');
    expect(channelOf({ source: 'google.com' })).toBe('google_com');
    expect(channelOf({ medium: 'x'.repeat(40) })).toBe('x'.repeat(32));
    expect(channelOf({})).toBe('unknown');
  });
});

describe("Segment's times", () => {
  it('reads toISOString times exactly as Date.parse does, and leaves any other form to it', async () => {
    const { segmentTime } = await import('../src/segment/segment-message.js');
    for (const text of ['2026-11-25T12:05:00.123Z', '2024-02-29T23:59:59.999Z', '1999-12-31T00:00:00.000Z', '2026-11-25T12:05:00+02:00', '2026-11-25']) {
      expect(segmentTime(text), text).toBe(Date.parse(text));
    }
    expect(segmentTime('2026-02-30T00:00:00.000Z')).toBe(Date.parse('2026-02-30T00:00:00.000Z'));
    expect(segmentTime('2026-13-01T00:00:00.000Z')).toBeUndefined();
    expect(segmentTime('not a time')).toBeUndefined();
    expect(segmentTime(1_700_000_000_000)).toBe(1_700_000_000_000);
  });

  it('counts days since 1970 as Date.parse does: month ends, leap days, centuries, the last year', async () => {
    const { segmentTime } = await import('../src/segment/segment-message.js');
    const times = ['1970-01-01T00:00:00.000Z', '2000-02-29T23:59:59.999Z', '2100-02-28T12:00:00.000Z', '2100-03-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '1969-12-31T23:59:59.999Z'];
    // Every 27 days, 1 h and 61.001 s from 1970 to 2401: each day of the month, hour and minute met.
    for (let ms = 0; ms < Date.UTC(2401, 0, 1); ms += 27 * 86_400_000 + 3_661_001) times.push(new Date(ms).toISOString());
    const differing = times.filter((text) => segmentTime(text) !== Date.parse(text));
    expect(differing).toEqual([]);
  });
});
