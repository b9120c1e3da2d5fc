// The privacy routes through HTTP (fastify inject) over a real Redis, BullMQ queue and archive:
// who may call them, what a deletion request records at once, how a request is shown, and the
// export of a person's archived events as NDJSON. (The deletion run to its end, with every
// service: test/privacy/deletion.test.ts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '@sigflow/archive';
import type { ReceivedEvent } from '@sigflow/events';
import { tombstoneHash } from '@sigflow/privacy';
import { hasTombstone } from '@sigflow/store/ops';
import { keysByRole, startTestApi, testConfig, type TestApi } from './helpers.js';

const PRIVACY_KEY = 'test-privacy-key';
const HOUR_MS = 3_600_000;

describe('privacy routes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-privacy-api-'));
  let api: TestApi;
  const base = Date.UTC(2026, 3, 1, 12);
  const mine: ReceivedEvent[] = [
    { event_id: 'm2', type: 'page_view', user_id: 'exported-person', ts: base + 2_000, received_at: base + 2_100, page_id: 'home', ip: '203.0.113.9', attrs: { k: 'v' } },
    { event_id: 'm1', type: 'click', user_id: 'exported-person', ts: base + 1_000, received_at: base + 1_050, campaign_id: 'c', ad_id: 'a', channel: 'search', ip_key: 'internal' },
    { event_id: 'm3', type: 'conversion', user_id: 'exported-person', ts: base + HOUR_MS + 5, received_at: base + HOUR_MS + 90, value: 12.5, currency: 'EUR' },
  ];

  beforeAll(async () => {
    const config = testConfig({
      SIGFLOW_API_KEYS: [...Object.entries(keysByRole).map(([role, key]) => `${key}:${role}`), `${PRIVACY_KEY}:privacy`].join(','),
      SIGFLOW_ARCHIVE_DIR: dir,
    });
    api = await startTestApi(config);
    const writer = await ArchiveWriter.open({ root: dir });
    const other: ReceivedEvent = { event_id: 'o1', type: 'page_view', user_id: 'someone-else', ts: base + 1_500, received_at: base + 1_600, page_id: 'home' };
    await writer.write([...mine, other].map((event, i) => ({ event, partition: 0, offset: String(i) })));
    // An exact replay of one message (the archive is at-least-once): exported once.
    await writer.write([{ event: mine[0] as ReceivedEvent, partition: 0, offset: '0' }]);
    // A copy the client sent again, received later (another message): exported once, as its first copy.
    await writer.write([{ event: { ...(mine[1] as ReceivedEvent), received_at: base + 9_000 }, partition: 0, offset: '9' }]);
    await writer.close();
  });
  afterAll(async () => {
    await api.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'DELETE', url: string, key?: string) => api.app.inject({ method, url, headers: key ? { 'x-api-key': key } : {} });

  it('takes privacy and ops keys only, and a privacy key opens nothing else', async () => {
    for (const key of [keysByRole.reader, keysByRole.analyst]) {
      expect((await call('DELETE', '/v1/users/someone', key)).statusCode).toBe(403);
      expect((await call('GET', '/v1/users/someone/export', key)).statusCode).toBe(403);
    }
    expect((await call('DELETE', '/v1/users/someone')).statusCode).toBe(401);
    expect((await call('GET', '/v1/users/someone/signals', PRIVACY_KEY)).statusCode).toBe(403);
    expect((await call('GET', '/v1/jobs', PRIVACY_KEY)).statusCode).toBe(403);
    expect((await call('GET', '/v1/users/exported-person/export', keysByRole.ops)).statusCode).toBe(200);
  });

  it('records the tombstone at once and answers 202 with a request that shows its progress', async () => {
    const reply = await call('DELETE', '/v1/users/person-42', PRIVACY_KEY);
    expect(reply.statusCode).toBe(202);
    const { requestId, status } = reply.json() as { requestId: string; status: string };
    expect(requestId).toMatch(/^del-[0-9a-f-]{36}$/);
    expect(status).toBe(`/v1/privacy/requests/${requestId}`);
    expect(await hasTombstone(api.redis, api.keys, tombstoneHash(api.config.privacy.salt, 'person-42'))).toBe(true);
    // The tombstone is the hash, never the id.
    expect(await api.redis.zrange(api.keys.tombstones(), 0, -1)).not.toContain('person-42');
    const job = await api.queue.getJob(requestId);
    expect([job?.name, (job?.data as { userId?: string }).userId]).toEqual(['delete-user', 'person-42']);

    const shown = await call('GET', status, PRIVACY_KEY);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ requestId, state: 'waiting', outcome: null, attemptsMade: 0 });
    expect((await call('GET', '/v1/privacy/requests/del-00000000-0000-0000-0000-000000000000', PRIVACY_KEY)).statusCode).toBe(404);
    const bad = await call('GET', '/v1/privacy/requests/..%2F1', PRIVACY_KEY);
    expect(bad.statusCode).toBe(400);
    await job?.remove();
  });

  it('refuses an id the event contract would refuse', async () => {
    const reply = await call('DELETE', `/v1/users/${'x'.repeat(129)}`, PRIVACY_KEY);
    expect(reply.statusCode).toBe(400);
  });

  it("exports every archived event of the person as NDJSON in event time, each once as its first copy, ip_key left out", async () => {
    const reply = await call('GET', '/v1/users/exported-person/export', PRIVACY_KEY);
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toContain('application/x-ndjson');
    const lines = reply.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = [mine[1], mine[0], mine[2]].map((e) => {
      const { ip_key: _internal, ...rest } = e as ReceivedEvent;
      return rest;
    });
    expect(lines).toEqual(expected);
    expect((await call('GET', '/v1/users/nobody-here/export', PRIVACY_KEY)).body).toBe('');
  });
});

