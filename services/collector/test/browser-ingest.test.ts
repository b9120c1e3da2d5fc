import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer, KafkaProbe, readTopicMessages, type KafkaClient } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { buildCollector } from '../src/index.js';

const SHOP = 'https://shop.example';
const OTHER = 'https://evil.example';
const SITE_KEY = 'pk_shop_1234';
const SERVER_KEY = 'sk-server';
// One user: every message lands in one partition, in request order.
const USER = `u-${randomUUID().slice(0, 8)}`;

let seq = 0;
const id = (label: string) => `${label}-${++seq}-${randomUUID().slice(0, 6)}`;
const pageView = (extra: Record<string, unknown> = {}) => ({ event_id: id('pv'), type: 'page_view', user_id: USER, ts: Date.now() - 1_000, page_id: 'landing', ...extra });

describe('collector: browsers, beacons, site keys', () => {
  let config: SigflowConfig;
  let kafka: KafkaClient;
  let producer: EventProducer;
  let probe: KafkaProbe;
  let app: FastifyInstance;
  let topic: string;
  /** event_id -> what the test expects in Kafka (undefined: must not be there). */
  const expected = new Map<string, { ip?: string; user_agent?: string; site?: string } | undefined>();

  beforeAll(async () => {
    config = loadConfig({
      ...process.env,
      SIGFLOW_TOPIC_PREFIX: `t-collector-web-${randomUUID().slice(0, 8)}-`,
      SIGFLOW_COLLECTOR_API_KEYS: SERVER_KEY,
      SIGFLOW_COLLECTOR_SITE_KEYS: `${SITE_KEY}:shop,pk_blog:blog`,
      SIGFLOW_COLLECTOR_ALLOWED_ORIGINS: `${SHOP},http://127.0.0.1:7005`,
    });
    kafka = createKafka(config.kafka);
    const topics = topicsFor(config.kafka.topicPrefix);
    topic = topics.events;
    await ensureTopics(kafka, topics, { eventPartitions: 2 });
    producer = new EventProducer(kafka, topic, { clientId: 't-collector-web' });
    await producer.connect();
    probe = new KafkaProbe(kafka);
    app = await buildCollector({ config, sink: producer, kafkaReady: () => probe.reachable(), logger: createLogger('collector-web-test', 'silent') });
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await probe?.close();
    if (kafka) await deleteTopics(kafka, Object.values(topicsFor(config.kafka.topicPrefix)));
  });

  describe('when a browser on another origin sends', () => {
    it('refuses the preflight without CORS headers', async () => {
      const res = await app.inject({ method: 'OPTIONS', url: '/v1/events', headers: { origin: OTHER, 'access-control-request-method': 'POST' } });
      expect(res.statusCode).toBe(403);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.json().error).toContain(OTHER);
    });

    it('refuses the request itself and ingests nothing of it (simple requests skip the preflight)', async () => {
      const refused = pageView();
      expected.set(refused.event_id, undefined);
      const res = await app.inject({ method: 'POST', url: `/v1/events?site=${SITE_KEY}`, headers: { origin: OTHER, 'content-type': 'text/plain' }, payload: JSON.stringify([refused]) });
      expect(res.statusCode).toBe(403);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('when a browser on an allowed origin sends', () => {
    it('answers the preflight with the origin, method and headers', async () => {
      const res = await app.inject({ method: 'OPTIONS', url: '/v1/events', headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(SHOP);
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(res.headers['access-control-allow-headers']).toContain('content-type');
      expect(res.headers['vary']).toContain('Origin');
    });

    it('takes a beacon body (text/plain JSON) like application/json, ip and user agent from the request', async () => {
      const spoofed = pageView({ ip: '6.6.6.6', user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
      expected.set(spoofed.event_id, { ip: '203.0.113.9', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0', site: 'shop' });
      const res = await app.inject({
        method: 'POST',
        url: `/v1/events?site=${SITE_KEY}`,
        remoteAddress: '203.0.113.9',
        headers: { origin: SHOP, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0' },
        payload: JSON.stringify([spoofed]),
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ accepted: 1, rejected: [] });
      expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    });

    it('ignores spoofed ip and user_agent from a browser without any key too', async () => {
      const open = await buildCollector({
        config: { ...config, collector: { ...config.collector, apiKeys: [] } },
        sink: producer,
        kafkaReady: () => probe.reachable(),
        logger: createLogger('collector-web-test', 'silent'),
      });
      try {
        const spoofed = pageView({ ip: '6.6.6.6', user_agent: 'curl/8' });
        expected.set(spoofed.event_id, { ip: '198.51.100.7', user_agent: 'Mozilla/5.0 (Macintosh) Safari/605' });
        const res = await open.inject({ method: 'POST', url: '/v1/events', remoteAddress: '198.51.100.7', headers: { origin: SHOP, 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605' }, payload: [spoofed] });
        expect(res.statusCode).toBe(202);
        // A server (no Origin) on an open collector is trusted as before.
        const server = pageView({ ip: '192.0.2.44', user_agent: 'ad-server/1.0' });
        expected.set(server.event_id, { ip: '192.0.2.44', user_agent: 'ad-server/1.0' });
        expect((await open.inject({ method: 'POST', url: '/v1/events', payload: [server] })).statusCode).toBe(202);
      } finally {
        await open.close();
      }
    });
  });

  describe('when a request carries a server key', () => {
    it('keeps ip and user_agent as the body says', async () => {
      const event = pageView({ ip: '192.0.2.10', user_agent: 'Mozilla/5.0 (relayed by the ad server)' });
      expected.set(event.event_id, { ip: '192.0.2.10', user_agent: 'Mozilla/5.0 (relayed by the ad server)' });
      const res = await app.inject({ method: 'POST', url: '/v1/events', remoteAddress: '10.1.1.1', headers: { 'x-api-key': SERVER_KEY, 'user-agent': 'node' }, payload: [event] });
      expect(res.statusCode).toBe(202);
    });
  });

  describe('when a request carries a site key', () => {
    it('ingests only its own site: ad events, other sites and pages of other origins are rejected with their index, the rest accepted', async () => {
      const ok = pageView();
      const conversion = { event_id: id('conv'), type: 'conversion', user_id: USER, ts: Date.now() - 500, value: 49, currency: 'USD', attrs: { plan: 'trial' } };
      const impression = { event_id: id('imp'), type: 'impression', user_id: USER, ts: Date.now() - 500, campaign_id: 'c', ad_id: 'a', channel: 'search' };
      const otherSite = pageView({ attrs: { site: 'blog' } });
      const elsewhere = pageView({ attrs: { url: 'https://phish.example/login' } });
      const here = pageView({ attrs: { url: `${SHOP}/pricing?x=1` } });
      const ownSite = pageView({ attrs: { site: 'shop', utm: 'x' } });
      for (const e of [ok, conversion, ownSite, here]) expected.set(e.event_id, { site: 'shop' });
      for (const e of [impression, otherSite, elsewhere]) expected.set(e.event_id, undefined);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'x-site-key': SITE_KEY, origin: SHOP, 'content-type': 'text/plain' },
        payload: JSON.stringify([ok, impression, conversion, otherSite, ownSite, 'not an event', elsewhere, here]),
      });
      expect(res.statusCode).toBe(202);
      const body = res.json() as { accepted: number; rejected: { index: number; code: string; reason: string }[] };
      expect(body.accepted).toBe(4);
      expect(body.rejected.map((r) => [r.index, r.code])).toEqual([
        [1, 'forbidden'],
        [3, 'forbidden'],
        [5, 'not_object'],
        [6, 'forbidden'],
      ]);
      expect(body.rejected[3]!.reason).toBe(`attrs.url is on https://phish.example, not on the request's origin ${SHOP}`);
      expect(body.rejected[0]!.reason).toContain('cannot send impression events');
      expect(body.rejected[1]!.reason).toBe('attrs.site is "blog", but this site key is for site "shop"');
    });

    it('refuses an unknown site key and a request without any key (401)', async () => {
      const event = pageView();
      expected.set(event.event_id, undefined);
      const unknown = await app.inject({ method: 'POST', url: '/v1/events?site=pk_nope', headers: { origin: SHOP }, payload: [event] });
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error).toContain('unknown site key');
      const none = await app.inject({ method: 'POST', url: '/v1/events', headers: { origin: SHOP }, payload: [event] });
      expect(none.statusCode).toBe(401);
    });

    it('keeps every limit: an oversize batch is 413 and a malformed beacon 400 naming the position', async () => {
      const many = Array.from({ length: 1_001 }, () => pageView());
      const big = await app.inject({ method: 'POST', url: `/v1/events?site=${SITE_KEY}`, headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(many) });
      expect(big.statusCode).toBe(413);
      const bad = await app.inject({ method: 'POST', url: `/v1/events?site=${SITE_KEY}`, headers: { 'content-type': 'text/plain' }, payload: '[{"type":' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/malformed JSON: .* at position 9/);
    });
  });

  it('Kafka holds exactly the accepted events, each with the ip, user agent and site the collector decided', async () => {
    const want = [...expected].filter(([, v]) => v !== undefined);
    const read = await readTopicMessages(kafka, topic, want.length);
    const byId = new Map(read.map((m) => [JSON.parse(m.value).event_id as string, JSON.parse(m.value) as Record<string, unknown>]));
    expect([...byId.keys()].sort()).toEqual(want.map(([k]) => k).sort());
    for (const [eventId, fields] of want) {
      const event = byId.get(eventId)!;
      if (fields!.ip !== undefined) expect(event['ip'], eventId).toBe(fields!.ip);
      if (fields!.user_agent !== undefined) expect(event['user_agent'], eventId).toBe(fields!.user_agent);
      if (fields!.site !== undefined) expect((event['attrs'] as Record<string, string>)['site'], eventId).toBe(fields!.site);
    }
  });

  describe('GET /sdk/sigflow.js', () => {
    it('serves the tracker with an ETag, Cache-Control and gzip, and 304 for a matching If-None-Match', async () => {
      const res = await app.inject({ method: 'GET', url: '/sdk/sigflow.js', headers: { 'accept-encoding': 'gzip, br' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers['cache-control']).toBe('public, max-age=300, stale-while-revalidate=86400');
      const etag = res.headers['etag'] as string;
      expect(etag).toMatch(/^"[\w-]{27}"$/);
      expect(gunzipSync(res.rawPayload).toString('utf8')).toContain('sigflow');
      const plain = await app.inject({ method: 'GET', url: '/sdk/sigflow.js' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toBe(gunzipSync(res.rawPayload).toString('utf8'));
      const again = await app.inject({ method: 'GET', url: '/sdk/sigflow.js', headers: { 'if-none-match': etag } });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    });
  });
});
