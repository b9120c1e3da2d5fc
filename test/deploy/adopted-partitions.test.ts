// A deployment whose events topic was made with another partition count than today's default
// (16; it was 4) keeps working: the collector, the speed layer and the API, started with no
// SIGFLOW_EVENT_PARTITIONS, take the topic's 4 partitions. The API finds a user's keys by
// partition: read by 16 instead of 4, three users in four would come back empty, and the
// collector would refuse to start on the topic. A count set to another than the topic's stops
// the start, naming both.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_PARTITIONS } from '@sigflow/config';
import { userPartition } from '@sigflow/events';
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

  it('serves every user the signals posted, found at the topic’s 4 partitions', async () => {
    expect(DEFAULT_EVENT_PARTITIONS).not.toBe(4);
    // Users whose partition differs between 4 and the default: read by the default, they would be missed.
    expect(users.filter((u) => userPartition(u, 4) !== userPartition(u, DEFAULT_EVENT_PARTITIONS)).length).toBeGreaterThan(0);
    const ts = Date.now() - 60_000;
    const events = users.flatMap((user, i) => [0, 1].map((k) => ({ event_id: `${user}-${k}`, type: 'page_view', user_id: user, ts: ts + i * 10 + k, page_id: `p-${k}` })));
    const posted = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': serverKey }, body: JSON.stringify(events) });
    expect(posted.status, await posted.text()).toBe(202);

    const served = async (user: string) => {
      const res = await fetch(`http://127.0.0.1:${api.metricsPort}/v1/users/${user}/signals`, { headers: { 'x-api-key': 'k' } });
      return ((await res.json()) as { signals: { event_id: string }[] }).signals.map((s) => s.event_id).sort();
    };
    await expect.poll(async () => (await Promise.all(users.map(served))).filter((ids) => ids.length === 2).length, { timeout: 30_000, interval: 250 }).toBe(USERS);
    for (const user of users) expect(await served(user)).toEqual([`${user}-0`, `${user}-1`]);
    expect(fs.readFileSync(api.log, 'utf8')).toContain('exists with 4 partitions');
  });

  it('stops a service whose SIGFLOW_EVENT_PARTITIONS names another count than the topic has', async () => {
    const speed = await scenario.speed('speed-16', { SIGFLOW_EVENT_PARTITIONS: '16' });
    await expect(speed.start()).rejects.toThrow();
    expect(fs.readFileSync(speed.log, 'utf8')).toContain('has 4 partitions but SIGFLOW_EVENT_PARTITIONS is 16');
  });
});
