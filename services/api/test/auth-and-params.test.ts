import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { createRedis } from '@sigflow/store';
import { createLogger } from '@sigflow/observability';
import { buildApi } from '../src/index.js';
import { keysByRole, startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

type Role = keyof typeof keysByRole;
const routes: { need: Role; request: InjectOptions }[] = [
  { need: 'reader', request: { method: 'GET', url: '/v1/users/u1/signals' } },
  { need: 'reader', request: { method: 'GET', url: '/v1/users/u1/profile' } },
  { need: 'reader', request: { method: 'GET', url: '/v1/status' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/campaigns/c1/metrics' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/attribution' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/reconciliation' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/pages/p1/heatmap' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/export/attribution.parquet' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/export/attribution.csv' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/campaigns' } },
  { need: 'analyst', request: { method: 'GET', url: '/v1/pages' } },
  // No body: for too-low roles the answer must be 401/403, never a validation 400.
  { need: 'ops', request: { method: 'POST', url: '/v1/jobs/reprocess' } },
  { need: 'ops', request: { method: 'GET', url: '/v1/jobs' } },
  { need: 'ops', request: { method: 'GET', url: '/v1/jobs/12345' } },
  { need: 'ops', request: { method: 'DELETE', url: '/v1/jobs/12345' } },
  { need: 'ops', request: { method: 'GET', url: '/v1/schedules' } },
  { need: 'ops', request: { method: 'PUT', url: '/v1/schedules/nightly' } },
  { need: 'ops', request: { method: 'GET', url: '/ops/queues' } },
  { need: 'ops', request: { method: 'GET', url: '/ops/queues/api/queues' } },
];
const rank: Record<Role, number> = { reader: 1, analyst: 2, ops: 3 };

describe('auth, parameters, probes', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(testConfig({ SIGFLOW_API_MAX_RANGE_MS: String(2 * 86_400_000) }), { maxCampaignHours: 100 });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('every route: 401 without a key or with an unknown one, 403 below its role, served at or above it', async () => {
    for (const { need, request } of routes) {
      const none = await api.app.inject(request);
      expect(none.statusCode, `${request.url} without key`).toBe(401);
      expect(none.json()).toMatchObject({ statusCode: 401, error: expect.stringContaining('missing API key') });
      const unknown = await api.app.inject({ ...request, headers: { 'x-api-key': `${keysByRole.ops}x` } });
      expect(unknown.statusCode, `${request.url} unknown key`).toBe(401);
      for (const role of Object.keys(keysByRole) as Role[]) {
        const res = await api.app.inject({ ...request, headers: withKey(role) });
        if (rank[role] < rank[need]) {
          expect(res.statusCode, `${request.method} ${request.url} as ${role}`).toBe(403);
          expect(res.json().error).toContain(`needs the ${need} role`);
        } else {
          expect([401, 403], `${request.method} ${request.url} as ${role}: ${res.body.slice(0, 200)}`).not.toContain(res.statusCode);
          expect(res.statusCode, `${request.method} ${request.url} as ${role}`).toBeLessThan(500);
        }
      }
    }
  });

  it('a key also works as Bearer token and as HTTP Basic password; the board asks browsers for it', async () => {
    const bearer = await api.app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${keysByRole.analyst}` } });
    expect(bearer.json()).toMatchObject({ role: 'analyst' });
    const board = await api.app.inject({ url: '/ops/queues' });
    expect(board.statusCode).toBe(401);
    expect(board.headers['www-authenticate']).toContain('Basic');
    // JSON routes never send the challenge (the dashboard's fetches must not pop up a login).
    expect((await api.app.inject({ url: '/v1/status' })).headers['www-authenticate']).toBeUndefined();
    const basic = `Basic ${Buffer.from(`ops:${keysByRole.ops}`).toString('base64')}`;
    const page = await api.app.inject({ url: '/ops/queues', headers: { authorization: basic } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const queues = await api.app.inject({ url: '/ops/queues/api/queues', headers: { authorization: basic } });
    expect(queues.json().queues.map((q: { name: string }) => q.name)).toContain(api.config.batch.queueName);
  });

  it('every bad parameter is a 400 naming it', async () => {
    const cases: [string, InjectOptions, Role?][] = [
      ['model', { url: '/v1/attribution?model=first_click' }],
      ['model', { url: '/v1/export/attribution.csv?model=bogus' }],
      ['model', { url: '/v1/reconciliation?model=' }],
      ['groupBy', { url: '/v1/attribution?groupBy=ad' }],
      ['granularity', { url: '/v1/campaigns/c1/metrics?granularity=week' }],
      ['granularity', { url: '/v1/attribution?granularity=year' }],
      ['from', { url: '/v1/campaigns/c1/metrics?from=2000&to=1000' }],
      ['from', { url: '/v1/attribution?from=2026-01-05T11:00Z&to=2026-01-05T10:00Z' }],
      ['from', { url: '/v1/pages/p1/heatmap?from=yesterday' }],
      ['to', { url: '/v1/campaigns/c1/metrics?from=0&to=172800001' }],
      ['to', { url: '/v1/export/attribution.parquet?from=2026-01-01&to=2026-01-04' }],
      ['to', { url: '/v1/reconciliation?from=0&to=36000000' }], // 10 h x 11 campaigns > maxCampaignHours
      ['campaignId', { url: '/v1/campaigns/c%01x/metrics' }],
      ['campaignId', { url: `/v1/campaigns/${'c'.repeat(129)}/metrics` }],
      ['campaignId', { url: '/v1/reconciliation?campaignId=%7F' }],
      ['pageId', { url: '/v1/pages/p%0A1/heatmap' }],
      ['userId', { url: `/v1/users/${'u'.repeat(129)}/signals` }, 'reader'],
      ['userId', { url: '/v1/users/u%00/profile' }, 'reader'],
      ['limit', { url: '/v1/users/u1/signals?limit=0' }, 'reader'],
      ['limit', { url: '/v1/users/u1/signals?limit=1001' }, 'reader'],
      ['limit', { url: '/v1/users/u1/signals?limit=ten' }, 'reader'],
      ['types', { url: '/v1/users/u1/signals?types=click,tap' }, 'reader'],
      ['since', { url: '/v1/users/u1/signals?since=last-week' }, 'reader'],
      ['includeInvalid', { url: '/v1/users/u1/signals?includeInvalid=maybe' }, 'reader'],
      ['lmit', { url: '/v1/users/u1/signals?lmit=5' }, 'reader'],
      ['from', { method: 'POST', url: '/v1/jobs/reprocess', payload: { from: '2026-01-05T12', to: '2026-01-05T10' } }, 'ops'],
      ['to', { method: 'POST', url: '/v1/jobs/reprocess', payload: { from: '2026-01-05T12' } }, 'ops'],
      ['from', { method: 'POST', url: '/v1/jobs/reprocess', payload: { from: 'noon', to: '2026-01-05T10' } }, 'ops'],
      ['to', { method: 'POST', url: '/v1/jobs/reprocess', payload: { from: 0, to: 3 * 86_400_000 } }, 'ops'],
      ['state', { url: '/v1/jobs?state=running' }, 'ops'],
      ['id', { url: '/v1/jobs/a%20b' }, 'ops'],
      ['pattern', { method: 'PUT', url: '/v1/schedules/nightly', payload: { pattern: '0 3 * * *', every: 60_000, jobName: 'compact' } }, 'ops'],
      ['pattern', { method: 'PUT', url: '/v1/schedules/nightly', payload: { pattern: '0 3 * * * * * *', jobName: 'compact' } }, 'ops'],
      ['pattern', { method: 'PUT', url: '/v1/schedules/nightly', payload: { pattern: '99 99 * * *', jobName: 'compact', data: { hour: '2026-01-05T10:00Z' } } }, 'ops'],
      ['jobName', { method: 'PUT', url: '/v1/schedules/nightly', payload: { every: 60_000 } }, 'ops'],
      ['jobName', { method: 'PUT', url: '/v1/schedules/nightly', payload: { every: 60_000, jobName: 'rm-rf' } }, 'ops'],
    ];
    await api.redis.sadd(api.keys.campaigns(0), ...Array.from({ length: 11 }, (_, i) => `c${i}`));
    for (const [parameter, request, role] of cases) {
      const res = await api.app.inject({ method: 'GET', ...request, headers: withKey(role ?? 'analyst') });
      const label = `${request.method ?? 'GET'} ${request.url} ${JSON.stringify(request.payload ?? '')}`;
      expect(res.statusCode, `${label}: ${res.body}`).toBe(400);
      expect(res.json(), label).toMatchObject({ statusCode: 400, parameter, error: expect.stringContaining(parameter) });
    }
  });

  it('probes, metrics per route, OpenAPI and the dashboard are public', async () => {
    expect((await api.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await api.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
    await api.app.inject({ url: '/v1/users/u1/signals', headers: withKey('reader') });
    const metrics = (await api.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/sigflow_api_request_seconds_bucket\{le="0\.005",service="api",route="\/v1\/users\/:userId\/signals",method="GET",status="200"\}/);
    const docs = (await api.app.inject({ url: '/docs/json' })).json();
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/v1/attribution', '/v1/users/{userId}/signals', '/v1/jobs/reprocess', '/v1/schedules/{name}']));
    expect(docs.paths['/v1/attribution'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['model', 'groupBy', 'from', 'to']));
    const page = await api.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('id="ctr-chart"');
    expect((await api.app.inject({ url: '/dashboard.js' })).headers['content-type']).toContain('javascript');
    expect((await api.app.inject({ url: '/nope' })).statusCode).toBe(404);
  });

  it('readyz says 503 when Redis is unreachable', async () => {
    const config = testConfig({ SIGFLOW_REDIS_URL: 'redis://127.0.0.1:1' });
    const redis = createRedis(config.redis, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => undefined);
    const app = await buildApi({ config, redis, queue: api.queue, logger: createLogger('api-test', 'silent') });
    try {
      const res = await app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });

  it('rate limiting counts per key', async () => {
    const limited = await startTestApi(testConfig({ SIGFLOW_API_RATE_LIMIT_PER_MINUTE: '3' }));
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.app.inject({ url: '/v1/status', headers: withKey('reader') })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const other = await limited.app.inject({ url: '/v1/status', headers: withKey('analyst') });
      expect(other.statusCode).toBe(200);
      const over = await limited.app.inject({ url: '/v1/status', headers: withKey('reader') });
      expect(over.json()).toMatchObject({ statusCode: 429, error: expect.stringContaining('rate limit') });
      expect(over.headers['retry-after']).toBeDefined();
    } finally {
      await limited.close();
    }
  });
});
