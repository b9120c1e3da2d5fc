// The collector's part of privacy, against the real broker and Redis: in truncated IP mode the
// stored address loses its host part and carries the flood rule's keyed hash of the full one;
// a deleted person's events are refused (user_deleted) and counted, the others go through.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type RedisClient, createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import { recordTombstone } from '@sigflow/store/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer, readTopicMessages, type KafkaClient } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { ipKey, tombstoneHash, TombstoneSet } from '@sigflow/privacy';
import { buildCollector } from '../src/index.js';

describe('collector privacy: truncated IPs and deleted people', () => {
  let config: SigflowConfig;
  let kafka: KafkaClient;
  let redis: RedisClient;
  let producer: EventProducer;
  let app: FastifyInstance;
  const registry = createMetricsRegistry('collector');
  const now = Date.now();

  beforeAll(async () => {
    const id = randomUUID().slice(0, 8);
    config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `t-cprivacy-${id}-`, SIGFLOW_REDIS_PREFIX: `t-cprivacy-${id}`, SIGFLOW_PRIVACY_IP_MODE: 'truncated', SIGFLOW_PRIVACY_SALT: 'test-salt' });
    kafka = createKafka(config.kafka);
    redis = createRedis(config.redis);
    const keys = new StoreKeys(config.redis.keyPrefix);
    await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), { eventPartitions: 2 });
    await recordTombstone(redis, keys, tombstoneHash('test-salt', 'deleted-person'), now, config.limits.retentionMs);
    const tombstones = new TombstoneSet(redis, keys, config.privacy.salt);
    await tombstones.refresh();
    producer = new EventProducer(kafka, topicsFor(config.kafka.topicPrefix).events, { clientId: 't-cprivacy' });
    await producer.connect();
    app = await buildCollector({ config, sink: producer, kafkaReady: async () => true, logger: createLogger('t', 'silent'), registry, tombstones, now: () => now });
  });

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await deleteTopics(kafka, Object.values(topicsFor(config.kafka.topicPrefix)));
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
  });

  it('stores truncated addresses with the keyed hash of the full one, and refuses a deleted person', async () => {
    const base = { type: 'page_view', page_id: 'home', ts: now - 1_000 };
    const batch = [
      { ...base, event_id: 'v4', user_id: 'kept-person', ip: '203.0.113.77' },
      { ...base, event_id: 'gone', user_id: 'deleted-person', ip: '203.0.113.78' },
      { ...base, event_id: 'v6', user_id: 'kept-person', ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348' },
      { ...base, event_id: 'noip', user_id: 'kept-person' },
      { ...base, event_id: 'odd', user_id: 'kept-person', ip: 'proxy-7' },
    ];
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: batch });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 4, rejected: [{ index: 1, code: 'user_deleted' }] });
    const read = await readTopicMessages(kafka, topicsFor(config.kafka.topicPrefix).events, 4);
    const byId = Object.fromEntries(read.map((m) => [JSON.parse(m.value).event_id as string, JSON.parse(m.value) as Record<string, unknown>]));
    expect(Object.keys(byId).sort()).toEqual(['noip', 'odd', 'v4', 'v6']);
    expect(byId['v4']).toMatchObject({ ip: '203.0.113.0', ip_key: ipKey('test-salt', '203.0.113.77'), received_at: now });
    expect(byId['v6']).toMatchObject({ ip: '2001:db8:85a3::', ip_key: ipKey('test-salt', '2001:db8:85a3:8d3:1319:8a2e:370:7348') });
    expect(byId['noip']).not.toHaveProperty('ip');
    expect(byId['noip']).not.toHaveProperty('ip_key');
    // Not an address: nothing of it stored but the flood rule's key.
    expect(byId['odd']).not.toHaveProperty('ip');
    expect(byId['odd']).toMatchObject({ ip_key: ipKey('test-salt', 'proxy-7') });
    expect(JSON.stringify(read)).not.toContain('203.0.113.77');
    const metrics = await registry.getSingleMetricAsString('sigflow_collector_events_rejected_total');
    expect(metrics).toMatch(/code="user_deleted"[^\n]*\} 1/);
  });

  it('answers 400 when every event of a request is a deleted person\'s', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: [{ type: 'page_view', page_id: 'home', ts: now, event_id: 'x', user_id: 'deleted-person' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'user_deleted' }] });
  });

  it('refuses an ip_key sent by a client (only the collector sets it)', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: [{ type: 'page_view', page_id: 'home', ts: now, event_id: 'y', user_id: 'kept-person', ip_key: 'forged' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ rejected: [{ index: 0, code: 'schema' }] });
  });
});
