import { HOUR_MS } from '@sigflow/core';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listRangeFiles } from '@sigflow/archive';
import { userPartition } from '@sigflow/events';
import { connectionSecurity, createKafka, EventProducer } from '@sigflow/kafka';
import { waitUntil } from '@sigflow/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaBroker, stopKafkaBroker } from '../../infra/kafka/broker.mjs';
import { freePort } from '../../infra/lib/process.mjs';
import { oneServerProcess, Scenario } from '../support/scenario.js';

const USER = 'sigflow';
const PASSWORD = `pw-${randomUUID()}`;

// A managed Kafka asks its clients to authenticate (README, "Managed Kafka and Redis"). The
// services' `@platformatic/kafka` clients (the collector's producer, the speed layer's and the
// archiver's consumers, the generator's sink) were once given the brokers but not the TLS and
// SASL settings, which only the kafkajs clients got: against such a broker the topics were made
// and nothing else connected. Every client now takes them from `connectionSecurity` (the topic
// admin, the producers, the consumers, the readiness probes, the ops log); here every one of
// them runs against a broker whose only client listener takes SASL/PLAIN.
describe('a broker that requires SASL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-kafka-sasl-'));
  const archive = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-sasl-archive-'));
  let scenario: Scenario;
  let saslBrokers: string[];

  beforeAll(async () => {
    const [port, controllerPort, saslPort] = [await freePort(), await freePort(), await freePort()];
    await startKafkaBroker({ dir, port, controllerPort, heap: '256m', log: () => undefined, saslPlain: { port: saslPort, users: { [USER]: PASSWORD } } });
    saslBrokers = [`127.0.0.1:${saslPort}`];
    scenario = new Scenario('sasl', {
      ...oneServerProcess,
      SIGFLOW_KAFKA_BROKERS: saslBrokers.join(','),
      SIGFLOW_KAFKA_SASL_MECHANISM: 'plain',
      SIGFLOW_KAFKA_SASL_USERNAME: USER,
      SIGFLOW_KAFKA_SASL_PASSWORD: PASSWORD,
    });
    await scenario.setUp();
  }, 120_000);

  afterAll(async () => {
    await scenario?.tearDown();
    await stopKafkaBroker({ dir, signal: 'SIGKILL', graceMs: 5_000 });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(archive, { recursive: true, force: true });
  }, 60_000);

  it('refuses a client without the credentials, or with a wrong password', async () => {
    const topic = scenario.topics.events;
    const kafka = scenario.config.kafka;
    const anonymous = new EventProducer(createKafka({ ...kafka, sasl: null }), topic, { clientId: 't-sasl-none', timeoutMs: 3_000 });
    const wrong = new EventProducer(createKafka({ ...kafka, sasl: { mechanism: 'plain', username: USER, password: 'not-the-password' } }), topic, {
      clientId: 't-sasl-wrong',
      timeoutMs: 3_000,
    });
    await expect(anonymous.connect()).rejects.toThrow();
    await expect(wrong.connect()).rejects.toThrow();
    await Promise.all([anonymous.disconnect(), wrong.disconnect()]).catch(() => undefined);
  }, 30_000);

  it('takes events through the collector and the generator sink into the speed layer and the archive', async () => {
    const [collector, speed, archiver] = [await scenario.collector(), await scenario.speed(), await scenario.archiver(archive)];
    await Promise.all([collector.start(), speed.start(), archiver.start()]);
    await Promise.all([collector.ready(), speed.ready(), archiver.ready()]);

    const now = Date.now();
    const events = Array.from({ length: 20 }, (_, i) => ({
      event_id: `sasl-${scenario.id}-${i}`,
      type: 'page_view',
      user_id: `sasl-user-${i % 5}`,
      ts: now - 1_000 + i,
      page_id: 'p-sasl',
    }));
    const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(202);

    const sink = scenario.kafkaSink({ security: connectionSecurity(scenario.config.kafka) });
    await sink.connect();
    const fromSink = Array.from({ length: 10 }, (_, i) => ({ ...events[i]!, event_id: `sasl-sink-${scenario.id}-${i}` }));
    const partitions = scenario.config.kafka.eventPartitions;
    await sink.write(fromSink.map((e) => ({ key: e.user_id, partition: userPartition(e.user_id, partitions), json: JSON.stringify(e) })));
    await sink.close();
    expect(sink.stats.failed).toBe(0);
    expect(sink.stats.sent).toBe(fromSink.length);

    const sent = events.length + fromSink.length;
    const offsets = await waitUntil('the speed layer to take every event', () => scenario.speedOffsets(), (o) => o.reduce((a, b) => a + b, 0) >= sent, 60_000);
    expect(offsets.reduce((a, b) => a + b, 0)).toBe(sent);
    const counters = await waitUntil('the speed layer to count them', () => scenario.speedCounters(), (c) => (c['events'] ?? 0) >= sent, 30_000);
    expect(counters['events']).toBe(sent);
    await waitUntil('the archiver to commit every event', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 60_000);
    const firstHour = now - 1_000 - ((now - 1_000) % HOUR_MS);
    expect((await listRangeFiles(archive, firstHour, firstHour + 2 * HOUR_MS)).length).toBeGreaterThan(0);
  }, 180_000);
});
