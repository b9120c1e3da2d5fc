import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor, type SigflowEvent } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer, KafkaProbe, readTopicMessages, type KafkaClient } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { buildCollector } from '../src/index.js';

const NOW = Date.now();

function events(n: number, prefix = randomUUID().slice(0, 8)): SigflowEvent[] {
  const types = [
    (i: number) => ({ type: 'impression', campaign_id: `c-${i % 3}`, ad_id: `a-${i % 5}`, channel: 'search' }),
    (i: number) => ({ type: 'click', campaign_id: `c-${i % 3}`, ad_id: `a-${i % 5}`, channel: 'social' }),
    () => ({ type: 'conversion', value: 12.5, currency: 'EUR' }),
    () => ({ type: 'page_view', page_id: 'home' }),
    (i: number) => ({ type: 'element_click', page_id: 'home', element_id: `el-${i % 4}` }),
    (i: number) => ({ type: 'scroll', page_id: 'home', depth: i % 101 }),
    () => ({ type: 'form_interaction', form_id: 'signup', action: 'focus' }),
    () => ({ type: 'link_follow', href: 'https://example.com/a?b=c&d=é' }),
    (i: number) => ({ type: 'mouse_move', page_id: 'home', x: i, y: 2 * i }),
  ];
  return Array.from({ length: n }, (_, i) => ({
    event_id: `${prefix}-${i}`,
    user_id: `user-${i % 7}`,
    ts: NOW - 60_000 + i,
    ...types[i % types.length]!(i),
  })) as SigflowEvent[];
}

describe('collector against a real Kafka broker', () => {
  let config: SigflowConfig;
  let kafka: KafkaClient;
  let producer: EventProducer;
  let probe: KafkaProbe;
  let app: FastifyInstance;
  let keyedApp: FastifyInstance;
  let topic: string;
  const receivedAt = NOW;

  beforeAll(async () => {
    config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `t-collector-${randomUUID().slice(0, 8)}-` });
    kafka = createKafka(config.kafka);
    const topics = topicsFor(config.kafka.topicPrefix);
    topic = topics.events;
    await ensureTopics(kafka, topics, { eventPartitions: 4 });
    producer = new EventProducer(kafka, topic, { clientId: 't-collector' });
    await producer.connect();
    probe = new KafkaProbe(kafka);
    const logger = createLogger('collector-test', 'silent');
    app = await buildCollector({ config, sink: producer, kafkaReady: () => probe.reachable(), logger, now: () => receivedAt });
    keyedApp = await buildCollector({
      config: { ...config, collector: { ...config.collector, apiKeys: ['k-one', 'k-two'] } },
      sink: producer,
      kafkaReady: () => probe.reachable(),
      logger,
    });
  });

  afterAll(async () => {
    await app?.close();
    await keyedApp?.close();
    await producer?.disconnect();
    await probe?.close();
    if (kafka) await deleteTopics(kafka, Object.values(topicsFor(config.kafka.topicPrefix)));
  });

  it('produces a JSON batch keyed by user; read back byte for byte plus received_at', async () => {
    const batch = events(45);
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: batch });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 45, rejected: [] });

    const read = await readTopicMessages(kafka, topic, 45);
    const byId = new Map(read.map((m) => [JSON.parse(m.value).event_id as string, m]));
    for (const event of batch) {
      const message = byId.get(event.event_id);
      expect(message?.key).toBe(event.user_id);
      expect(message?.value).toBe(`${JSON.stringify(event).slice(0, -1)},"received_at":${receivedAt}}`);
    }
    // One user's events share a partition.
    const partitionsByUser = new Map<string, Set<number>>();
    for (const m of read) partitionsByUser.set(m.key, (partitionsByUser.get(m.key) ?? new Set()).add(m.partition));
    for (const partitions of partitionsByUser.values()) expect(partitions.size).toBe(1);
    expect(new Set(read.map((m) => m.partition)).size).toBeGreaterThan(1);
  });

  it('accepts NDJSON', async () => {
    const batch = events(3);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: batch.map((e) => JSON.stringify(e)).join('\n'),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().accepted).toBe(3);
  });

  it('accepts the valid events of a mixed batch and names each rejected one', async () => {
    const [a, b] = events(2);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: [a, { ...b, ts: NOW + 3_600_000 }, { ...b, type: 'purchase' }, b],
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([
      { index: 1, code: 'future', reason: expect.stringMatching(/in the future/) },
      { index: 2, code: 'unknown_type', reason: expect.stringMatching(/type must be one of/) },
    ]);
  });

  it('answers 400 when every event is rejected, with the reasons', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: [{ type: 'click' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().rejected[0]).toMatchObject({ index: 0, code: 'schema' });
  });

  it.each([
    ['malformed JSON', 'application/json', '[{"event_id": }]', 400, /malformed JSON: Unexpected token '}' at position 14/],
    ['malformed NDJSON', 'application/x-ndjson', '{"a":1}\n{oops}', 400, /line 2/],
    ['a JSON object instead of an array', 'application/json', '{"event_id":"e"}', 400, /expected a JSON array/],
    ['an empty array', 'application/json', '[]', 400, /empty batch/],
    // Beacons send text/plain: parsed as JSON like application/json.
    ['text/plain that is not JSON', 'text/plain', 'hello', 400, /malformed JSON: .* at position 0/],
    ['application/xml', 'application/xml', '<events/>', 415, /unsupported content-type "application\/xml"/],
  ])('rejects %s', async (_name, contentType, payload, status, message) => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': contentType }, payload });
    expect(res.statusCode).toBe(status);
    expect(res.json().error).toMatch(message);
  });

  it('answers 413 over 1 MiB or over 1,000 events', async () => {
    const big = JSON.stringify([{ pad: 'x'.repeat(1024 * 1024) }]);
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatch(/over 1048576 bytes/);

    const many = await app.inject({ method: 'POST', url: '/v1/events', payload: events(1001) });
    expect(many.statusCode).toBe(413);
    expect(many.json().error).toBe('batch has 1001 events (limit 1000)');
  });

  it('checks the API key when keys are configured', async () => {
    const batch = events(1);
    expect((await keyedApp.inject({ method: 'POST', url: '/v1/events', payload: batch })).statusCode).toBe(401);
    const wrong = await keyedApp.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': 'k-three' }, payload: batch });
    expect(wrong.statusCode).toBe(401);
    const right = await keyedApp.inject({ method: 'POST', url: '/v1/events', headers: { 'x-api-key': 'k-two' }, payload: batch });
    expect(right.statusCode).toBe(202);
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready' });
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/sigflow_collector_events_accepted_total\{service="collector"\} [1-9]/);
    expect(metrics).toMatch(/sigflow_collector_events_rejected_total\{code="future",service="collector"\} 1/);
    expect(metrics).toMatch(/sigflow_collector_produce_seconds_bucket/);
    const doc = (await app.inject('/docs/json')).json();
    expect(doc.paths['/v1/events'].post.summary).toBe('Ingest a batch of events');
  });
});
