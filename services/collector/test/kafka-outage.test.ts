import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { topicsFor, type SigflowEvent } from '@sigflow/events';
import { createKafka, ensureTopics, EventProducer, KafkaProbe, readTopicMessages, topicOffsets } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { startKafkaBroker, stopKafkaBroker } from '../../../infra/kafka/broker.mjs';
import { freePort } from '../../../infra/lib/process.mjs';
import { buildCollector } from '../src/index.js';

// This suite stops and restarts a broker, so it runs its own on spare ports: the shared
// broker stays up for every other suite.
describe('collector while Kafka is down', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-kafka-outage-'));
  let port: number;
  let controllerPort: number;
  let app: FastifyInstance;
  let producer: EventProducer;
  let probe: KafkaProbe;

  const batch = (tag: string, n: number): SigflowEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      event_id: `${tag}-${i}`,
      type: 'page_view',
      user_id: `u-${i % 5}`,
      ts: Date.now() - 1_000,
      page_id: 'home',
    }));

  beforeAll(async () => {
    port = await freePort();
    controllerPort = await freePort();
    await startKafkaBroker({ dir, port, controllerPort, heap: '256m', log: () => undefined });
    const config = loadConfig({
      ...process.env,
      SIGFLOW_KAFKA_BROKERS: `127.0.0.1:${port}`,
      SIGFLOW_TOPIC_PREFIX: `t-outage-${randomUUID().slice(0, 8)}-`,
      SIGFLOW_COLLECTOR_PRODUCE_TIMEOUT_MS: '3000',
      SIGFLOW_KAFKA_CONNECTION_TIMEOUT_MS: '500',
    });
    const kafka = createKafka(config.kafka);
    await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), { eventPartitions: 2 });
    producer = new EventProducer(kafka, topicsFor(config.kafka.topicPrefix).events, { clientId: 't-outage', timeoutMs: 3_000 });
    await producer.connect();
    probe = new KafkaProbe(kafka, 500, 0);
    app = await buildCollector({ config, sink: producer, kafkaReady: () => probe.reachable(), logger: createLogger('t', 'silent') });
    (globalThis as { outageKafka?: typeof kafka }).outageKafka = kafka;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect().catch(() => undefined);
    await probe?.close();
    await stopKafkaBroker({ dir, signal: 'SIGKILL' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while Kafka is down and loses nothing once it is back', async () => {
    const before = batch('before', 20);
    expect((await app.inject({ method: 'POST', url: '/v1/events', payload: before })).statusCode).toBe(202);

    await stopKafkaBroker({ dir, signal: 'SIGKILL' });
    const during = batch('during', 20);
    const refused = await app.inject({ method: 'POST', url: '/v1/events', payload: during });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json().error).toMatch(/nothing from this request was accepted/);
    expect((await app.inject('/readyz')).statusCode).toBe(503);

    await startKafkaBroker({ dir, port, controllerPort, heap: '256m', log: () => undefined });
    // A client retries what was refused, as Retry-After asks.
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 202; attempt++) {
      status = (await app.inject({ method: 'POST', url: '/v1/events', payload: during })).statusCode;
      if (status !== 202) await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(status).toBe(202);
    const after = batch('after', 20);
    expect((await app.inject({ method: 'POST', url: '/v1/events', payload: after })).statusCode).toBe(202);
    // Readiness is the probe's own answer (a cluster description within its timeout, remembered
    // briefly): its first ask after the restart can still time out on a loaded host while the
    // producer is already through. It must come back within a few asks, not on the very next one.
    await expect.poll(async () => (await app.inject('/readyz')).statusCode, { timeout: 10_000, interval: 250 }).toBe(200);

    const kafka = (globalThis as { outageKafka?: Parameters<typeof readTopicMessages>[0] }).outageKafka!;
    // Everything the topic holds: a send refused while Kafka was down may still have been written
    // by the producer's own retries, so the 60 events can be there more than once.
    const held = [...(await topicOffsets(kafka, producer.topic, 'latest')).values()].reduce((sum, end) => sum + end, 0);
    expect(held).toBeGreaterThanOrEqual(60);
    const read = await readTopicMessages(kafka, producer.topic, held);
    const ids = new Set(read.map((m) => JSON.parse(m.value).event_id as string));
    for (const e of [...before, ...during, ...after]) expect(ids.has(e.event_id)).toBe(true);
  }, 120_000);
});
