// A deployment whose events topic was made with another partition count than today's default
// (16; it was 4) keeps working: the collector, the speed layer and the API, started with no
// SIGFLOW_EVENT_PARTITIONS, take the topic's 4 partitions. The API finds a user's keys by
// partition: read by 16 instead of 4, three users in four would come back empty, and the
// collector would refuse to start on the topic. A count set to another than the topic's stops
// the start, naming both. An API that starts while Kafka does not answer serves by the count an
// earlier start recorded in Redis (bidders and recommendation services keep their reads through
// a Kafka outage); with none recorded it waits for Kafka.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_PARTITIONS } from '@sigflow/config';
import { userPartition } from '@sigflow/events';
import { freePort } from '../../infra/lib/process.mjs';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import type { ServiceProcess } from '../support/services.js';

const USERS = 12;

describe('a topic made with another partition count', () => {
  const run = randomBytes(3).toString('hex');
  const serverKey = randomBytes(12).toString('hex');
  // The topic is created with 4 partitions (the scenario's count); the services are then started without one.
  const scenario = new Scenario('adopt', { ...oneServerProcess, SIGFLOW_COLLECTOR_API_KEYS: serverKey });
  const unset = { SIGFLOW_EVENT_PARTITIONS: '' };
  const users = Array.from({ length: USERS }, (_, i) => `adopt-${run}-${i}`);
  let collector: ServiceProcess;
  let api: ServiceProcess;

  beforeAll(async () => {
    await scenario.setUp();
    collector = await scenario.collector('collector', unset);
    api = await scenario.api('api', unset);
    await Promise.all([collector, api, await scenario.speed('speed', unset)].map((s) => s.start()));
  });
  afterAll(() => scenario.tearDown());

  /** The event ids of a user's signals as `from` serves them. */
  const served = async (from: ServiceProcess, user: string) => {
    const res = await fetch(`http://127.0.0.1:${from.metricsPort}/v1/users/${user}/signals`, { headers: { 'x-api-key': 'k' } });
    return ((await res.json()) as { signals: { event_id: string }[] }).signals.map((s) => s.event_id).sort();
  };
  /** An API's environment whose Kafka does not answer (nothing listens on the port). */
  const kafkaDown = async () => ({ ...unset, SIGFLOW_KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, SIGFLOW_KAFKA_CONNECTION_TIMEOUT_MS: '500' });

  it('serves every user the signals posted, found at the topic’s 4 partitions', async () => {
    expect(DEFAULT_EVENT_PARTITIONS).not.toBe(4);
    // Users whose partition differs between 4 and the default: read by the default, they would be missed.
    expect(users.filter((u) => userPartition(u, 4) !== userPartition(u, DEFAULT_EVENT_PARTITIONS)).length).toBeGreaterThan(0);
    const ts = Date.now() - 60_000;
    const events = users.flatMap((user, i) => [0, 1].map((k) => ({ event_id: `${user}-${k}`, type: 'page_view', user_id: user, ts: ts + i * 10 + k, page_id: `p-${k}` })));
    const posted = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': serverKey }, body: JSON.stringify(events) });
    expect(posted.status, await posted.text()).toBe(202);

    await expect.poll(async () => (await Promise.all(users.map((u) => served(api, u)))).filter((ids) => ids.length === 2).length, { timeout: 30_000, interval: 250 }).toBe(USERS);
    for (const user of users) expect(await served(api, user)).toEqual([`${user}-0`, `${user}-1`]);
    expect(fs.readFileSync(api.log, 'utf8')).toContain('exists with 4 partitions');
  });

  it('serves through a Kafka that does not answer, by the count the last start recorded in Redis', async () => {
    const cut = await scenario.api('api-no-kafka', await kafkaDown());
    await cut.start();
    for (const user of users) expect(await served(cut, user)).toEqual([`${user}-0`, `${user}-1`]);
    expect(fs.readFileSync(cut.log, 'utf8')).toContain("partition count recorded in Redis (4)");
    // Kafka is asked on, and the warnings say what the API does meanwhile.
    await expect.poll(() => fs.readFileSync(cut.log, 'utf8'), { timeout: 20_000, interval: 500 }).toContain('the events topic has; the API serves by the count recorded in Redis (4) meanwhile');
    await cut.stop();
  });

  it('waits for Kafka when no count is recorded', async () => {
    await scenario.redis.del(scenario.keys.eventPartitions());
    const cut = await scenario.api('api-waits', await kafkaDown());
    const started = cut.start().then(() => 'serving', () => 'not serving');
    await expect.poll(() => fs.readFileSync(cut.log, 'utf8'), { timeout: 20_000, interval: 250 }).toContain('the start waits for it');
    // Still waiting well after it said so (Kafka's connection timeout here is 500 ms).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await cut.stop();
    expect(await started).toBe('not serving');
  });

  it('stops a service whose SIGFLOW_EVENT_PARTITIONS names another count than the topic has', async () => {
    const speed = await scenario.speed('speed-16', { SIGFLOW_EVENT_PARTITIONS: '16' });
    await expect(speed.start()).rejects.toThrow();
    expect(fs.readFileSync(speed.log, 'utf8')).toContain('has 4 partitions but SIGFLOW_EVENT_PARTITIONS is 16');
  });
});
