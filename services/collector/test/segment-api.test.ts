import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer, KafkaProbe, readTopicMessages, type KafkaClient } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { buildCollector } from '../src/index.js';

const WRITE_KEY = 'wk-shop';
const SHOP = 'https://shop.example';
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const iso = (ms: number) => new Date(ms).toISOString();

describe("Segment's tracking API on the collector, against a real Kafka broker", () => {
  let config: SigflowConfig;
  let kafka: KafkaClient;
  let producer: EventProducer;
  let deadLetters: EventProducer;
  let app: FastifyInstance;
  const receivedAt = Date.now();
  const run = randomUUID().slice(0, 8);
  const id = (name: string) => `${run}-${name}`;
  /** Events expected on the events topic (by event id), and messages expected in the dead-letter topic (by code). */
  const expectedEvents = new Map<string, Record<string, unknown>>();
  const expectedLetters: { key: string; code: string; reason: RegExp }[] = [];

  beforeAll(async () => {
    config = loadConfig({
      ...process.env,
      SIGFLOW_TOPIC_PREFIX: `t-segment-${run}-`,
      SIGFLOW_COLLECTOR_SITE_KEYS: `${WRITE_KEY}:shop`,
      SIGFLOW_COLLECTOR_ALLOWED_ORIGINS: SHOP,
      SIGFLOW_COLLECTOR_SEGMENT_MAPPING: JSON.stringify({ shop: { 'Products Searched': 'track:search' } }),
    });
    kafka = createKafka(config.kafka);
    const topics = topicsFor(config.kafka.topicPrefix);
    await ensureTopics(kafka, topics, { eventPartitions: 2 });
    producer = new EventProducer(kafka, topics.events, { clientId: 't-segment' });
    deadLetters = new EventProducer(kafka, topics.deadLetters, { clientId: 't-segment-dlq' });
    await Promise.all([producer.connect(), deadLetters.connect()]);
    const probe = new KafkaProbe(kafka);
    app = await buildCollector({ config, sink: producer, deadLetters, kafkaReady: () => probe.reachable(), logger: createLogger('t', 'silent'), now: () => receivedAt });
    app.addHook('onClose', async () => probe.close());
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([producer?.disconnect(), deadLetters?.disconnect()]);
    if (kafka) await deleteTopics(kafka, Object.values(topicsFor(config.kafka.topicPrefix)));
  });

  it('takes a batch with Basic authentication: mapped events to Kafka, refused ones to the dead-letter topic with their reason', async () => {
    const sentAt = receivedAt + 60_000; // the client's clock is a minute fast
    const batch = [
      { type: 'track', event: 'Products Searched', messageId: id('search'), userId: 'u-1', anonymousId: 'a-1', timestamp: iso(sentAt - 2_000), properties: { query: 'boots', filters: { size: 42 } } },
      { type: 'page', messageId: id('page'), anonymousId: 'a-1', timestamp: iso(sentAt - 1_000), properties: { path: '/boots', url: `${SHOP}/boots` } },
      { type: 'identify', messageId: id('identify'), userId: 'u-1', traits: { plan: 'pro', seats: 3 } },
      { type: 'track', event: 'Clicked', messageId: id('anon') },
      { type: 'track', event: 'Clicked', messageId: id('list'), userId: 'u-1', properties: { products: [{ id: 1 }] } },
    ];
    expectedEvents.set(id('search'), { type: 'track', name: 'search', name_original: 'Products Searched', user_id: 'u-1', ts: receivedAt - 2_000, properties: { query: 'boots', 'filters.size': 42 } });
    expectedEvents.set(id('page'), { type: 'page_view', page_id: '/boots', user_id: 'a-1', ts: receivedAt - 1_000 });
    expectedEvents.set(id('identify'), { type: 'identify', user_id: 'u-1', traits: { plan: 'pro', seats: 3 }, ts: receivedAt });
    expectedLetters.push({ key: id('anon'), code: 'missing_identity', reason: /userId or an anonymousId/ });
    expectedLetters.push({ key: id('list'), code: 'schema', reason: /properties\.products is a list/ });
    const res = await app.inject({ method: 'POST', url: '/v1/batch', headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json' }, payload: { batch, sentAt: iso(sentAt) } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, accepted: 3, rejected: [{ index: 3, code: 'missing_identity' }, { index: 4, code: 'schema' }] });
  });

  it("takes analytics.js's one-letter calls as text/plain with the write key in the body, and gzip", async () => {
    const track = { event: 'Added To Wishlist', messageId: id('wish'), anonymousId: 'a-2', writeKey: WRITE_KEY, properties: { sku: 'b-1' } };
    expectedEvents.set(id('wish'), { type: 'track', name: 'added_to_wishlist', user_id: 'a-2', properties: { sku: 'b-1' } });
    const plain = await app.inject({ method: 'POST', url: '/v1/t', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(track) });
    expect(plain.statusCode).toBe(200);
    const batch = { batch: [{ type: 'alias', messageId: id('alias'), userId: 'u-2', previousId: 'a-2' }] };
    expectedEvents.set(id('alias'), { type: 'alias', user_id: 'u-2', previous_id: 'a-2' });
    const zipped = await app.inject({
      method: 'POST',
      url: '/v1/import',
      headers: { authorization: basic(WRITE_KEY), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(JSON.stringify(batch)),
    });
    expect(zipped.statusCode).toBe(200);
    expect(zipped.json()).toMatchObject({ accepted: 1 });
  });

  it('refuses a missing or unknown write key with 401 and keeps nothing', async () => {
    const message = { event: 'x', userId: 'u', messageId: id('nokey') };
    const none = await app.inject({ method: 'POST', url: '/v1/track', payload: message });
    expect(none.statusCode).toBe(401);
    expect(none.json().error).toMatch(/missing write key/);
    const unknown = await app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: basic('wk-other') }, payload: message });
    expect(unknown.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/projects/wk-other/settings' })).statusCode).toBe(401);
  });

  it("answers Segment's 400 past its limits, naming the limit: 500 KB a request, 32 KB a message (the batch's others accepted)", async () => {
    const big = 'x'.repeat(40 * 1024);
    const over = await app.inject({ method: 'POST', url: '/v1/batch', headers: { authorization: basic(WRITE_KEY) }, payload: { batch: Array.from({ length: 15 }, (_, i) => ({ type: 'track', event: 'x', userId: 'u', messageId: `${id('over')}-${i}`, properties: { big } })) } });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatch(/500 KB per request/);
    const single = await app.inject({ method: 'POST', url: '/v1/track', headers: { authorization: basic(WRITE_KEY) }, payload: { event: 'x', userId: 'u', messageId: id('single-big'), properties: { big } } });
    expect(single.statusCode).toBe(400);
    expect(single.json().error).toMatch(/32 KB per call/);
    expectedEvents.set(id('small'), { type: 'track', name: 'x' });
    expectedLetters.push({ key: id('big'), code: 'too_large', reason: /32 KB/ });
    const mixed = await app.inject({
      method: 'POST',
      url: '/v1/b',
      headers: { authorization: basic(WRITE_KEY) },
      payload: { batch: [{ type: 'track', event: 'x', userId: 'u', messageId: id('big'), properties: { big } }, { type: 'track', event: 'x', userId: 'u', messageId: id('small') }] },
    });
    expect(mixed.statusCode).toBe(200);
    expect(mixed.json()).toMatchObject({ accepted: 1, rejected: [{ index: 0, code: 'too_large' }] });
    const deflate = await app.inject({ method: 'POST', url: '/v1/b', headers: { authorization: basic(WRITE_KEY), 'content-encoding': 'br' }, payload: '{}' });
    expect(deflate.statusCode).toBe(415);
  });

  it("serves analytics-next's settings pointing at the collector, and a preflight allowing its headers", async () => {
    const settings = await app.inject({ method: 'GET', url: `/v1/projects/${WRITE_KEY}/settings`, headers: { host: 'collect.shop.example:7001', origin: SHOP } });
    expect(settings.statusCode).toBe(200);
    expect(settings.json().integrations['Segment.io']).toMatchObject({ apiKey: WRITE_KEY, apiHost: 'collect.shop.example:7001/v1', protocol: 'http' });
    expect(settings.headers['access-control-allow-origin']).toBe(SHOP);
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/t', headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-retry-count' } });
    expect(preflight.statusCode).toBe(204);
    for (const header of ['authorization', 'content-type', 'x-retry-count']) expect(preflight.headers['access-control-allow-headers']).toContain(header);
    const elsewhere = await app.inject({ method: 'OPTIONS', url: '/v1/t', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(elsewhere.statusCode).toBe(403);
  });

  it('wrote exactly the expected events and dead letters', async () => {
    const topics = topicsFor(config.kafka.topicPrefix);
    const events = (await readTopicMessages(kafka, topics.events, expectedEvents.size)).map((m) => JSON.parse(m.value) as Record<string, unknown>);
    expect(events.map((e) => e['event_id']).sort()).toEqual([...expectedEvents.keys()].sort());
    for (const event of events) {
      expect(event).toMatchObject(expectedEvents.get(event['event_id'] as string)!);
      expect(event['attrs']).toMatchObject({ site: 'shop' });
      expect(event['received_at']).toBe(receivedAt);
    }
    const letters = await readTopicMessages(kafka, topics.deadLetters, expectedLetters.length);
    expect(letters.map((l) => l.key).sort()).toEqual(expectedLetters.map((l) => l.key).sort());
    for (const letter of letters) {
      const record = JSON.parse(letter.value) as Record<string, unknown>;
      const expected = expectedLetters.find((l) => l.key === letter.key)!;
      expect(record).toMatchObject({ source: 'collector.segment', site: 'shop', code: expected.code, received_at: receivedAt });
      expect(record['reason']).toMatch(expected.reason);
      expect(record['message']).toMatchObject({ messageId: letter.key });
    }
  });
});
