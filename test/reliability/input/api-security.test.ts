// Bad input and security, serving API and batch layer:
// - every route the router knows (new ones included: the list comes from the router itself)
//   answers 401 without a key and with wrong keys, 403 below its role, and serves at or above it;
// - every path/query parameter and body field of the OpenAPI document gets SQL-injection
//   strings, NUL, very long values, path traversal and wrong types: 400 naming the parameter or
//   a correct (empty) answer, never a 5xx; oversized ranges and limits: 400 naming the parameter;
// - the only parameters that reach the file system (static files of /docs and /ops/queues,
//   job payloads' hours, the compact job's hour, the CLI) refuse traversal, and a real batch
//   worker fed hostile job data fails those jobs at once without touching a file;
// - no DuckDB statement in the code base is built from anything but reviewed constants.
// Extends services/api/test/auth-and-params.test.ts (fixed route list, one bad value each).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import ts from 'typescript';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type RedisClient, createRedis } from '@sigflow/store';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { buildApi } from '@sigflow/api';
import { bullConnection, InvalidJobDataError, jobKinds, openBatchQueue, parseJobRequest } from '@sigflow/batch-jobs';
import {
  createBatchContext,
  runCli,
  startBatchWorker,
  type BatchWorker,
  type CliOutput,
} from '@sigflow/batch';
import { repoRoot } from '../../support/services.js';
import { deleteByPrefix } from '../../support/redis-keys.js';
import { recordScenario } from '../support/report.js';
import { rawRequest } from './raw-http.js';

type Role = 'reader' | 'analyst' | 'ops';
const roles: readonly Role[] = ['reader', 'analyst', 'ops'];
const id = randomUUID().slice(0, 8);
const keyOf: Record<Role, string> = { reader: `sec-reader-${id}`, analyst: `sec-analyst-${id}`, ops: `sec-ops-${id}` };
/** The privacy role stands apart from the ranks: its routes (and ops) only, nothing else. */
const privacyKey = `sec-privacy-${id}`;
const isPrivacyRoute = (p: string) => /^\/v1\/privacy\//.test(p) || /^\/v1\/users\/:userId(\/export)?$/.test(p);
const MAX_RANGE_MS = 31 * 86_400_000;

/** The least role of every protected route, by path prefix (and method where given): a new route must be added here. */
const expectedRole: [RegExp, Role, string[]?][] = [
  // A person's deletion, its requests and their export: privacy keys, and of the ranks only ops.
  [/^\/v1\/privacy\//, 'ops'],
  [/^\/v1\/users\/:userId(\/export)?$/, 'ops'],
  [/^\/v1\/users\//, 'reader'],
  [/^\/v1\/status$/, 'reader'],
  [/^\/v1\/bidding(\/|$)/, 'reader'],
  [/^\/v1\/campaigns\/:campaignId\/budget$/, 'ops', ['PUT', 'DELETE']],
  [/^\/v1\/(campaigns|attribution|reconciliation|pages|export)(\/|$)/, 'analyst'],
  [/^\/v1\/events\/counts$/, 'analyst'],
  [/^\/v1\/(jobs|schedules)(\/|$)/, 'ops'],
  [/^\/ops\/queues(\/|$)/, 'ops'],
  // Segments: definitions changed by ops; definitions, members and sizes read by readers.
  [/^\/v1\/segments(\/|$)/, 'ops', ['PUT', 'DELETE']],
  [/^\/v1\/segments(\/|$)/, 'reader'],
  // Alert rules (and their webhooks) by ops; the episodes by readers.
  [/^\/v1\/alerts\/rules(\/|$)/, 'ops'],
  [/^\/v1\/alerts\/?$/, 'reader'],
  // Analysts' SQL (and its table catalogue): analysts and ops.
  [/^\/v1\/sql(\/|$)/, 'analyst'],
];
const isPublic = (p: string) =>
  ['/', '/dashboard.js', '/dashboard-users.js', '/dashboard-ops.js', '/dashboard-heatmap.js', '/dashboard-pacing.js', '/dashboard-segments.js', '/dashboard-sql.js', '/dashboard.css', '/healthz', '/readyz', '/metrics'].includes(p) || p === '/docs' || p.startsWith('/docs/');

/** SQL injection, NUL, huge, traversal, odd text: as query/path strings. */
const hostile: readonly string[] = [
  "' OR 1=1 --",
  '"; DROP TABLE x; --',
  "1; SELECT * FROM read_csv_auto('/etc/passwd') --",
  "') UNION SELECT 1, 2 --",
  "x' || (SELECT version()) || '",
  '\u0000',
  'a\u0000b',
  'x'.repeat(10_000),
  '../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '',
  ' ',
  '\n',
  '*',
  '$(id)',
  '${7*7}',
  '<script>alert(1)</script>',
  '😀',
  '\ufeff',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '99999999999999999999',
  '[]',
  '{}',
  'null',
  'true',
  '__proto__',
];
/** Extra values for JSON bodies (types other than string). */
const hostileJson: readonly unknown[] = [...hostile, -1, 1.5, 1e20, 8.7e15, 1e308, null, true, [], ['x'], { $gt: 0 }];

const samplePathValue: Record<string, string> = { userId: 'u1', campaignId: 'c1', pageId: 'p1', id: '12345', jobId: '12345', name: `sec-${id}`, queueStatus: 'failed', schedulerId: `sec-${id}` };

interface Route {
  readonly method: string;
  readonly path: string;
}

/** Every method and path the router holds, from `printRoutes` (hidden routes included). */
function routesOf(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const prefixes: string[] = [];
  // The radix tree (common prefixes as their own nodes): with commonPrefix false, find-my-way
  // drops method-less prefix nodes such as the `static/` above a wildcard.
  for (const line of app.printRoutes().split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const full = `${depth > 0 ? prefixes[depth - 1] : ''}${m[2]}`;
    prefixes[depth] = full;
    prefixes.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) routes.push({ method, path: full });
  }
  return routes;
}

function concrete(p: string, queueName: string): string {
  return p
    .replace(/:(\w+)/g, (_m, name: string) => (name === 'queueName' ? queueName : (samplePathValue[name] ?? 'x')))
    .replace(/\*$/, 'x');
}

interface Violation {
  readonly what: string;
  readonly status: number;
  readonly body: string;
}

describe('API and batch layer: keys, roles, hostile parameters, traversal, job payloads', () => {
  let config: SigflowConfig;
  let app: FastifyInstance;
  let redis: RedisClient;
  let queueRedis: RedisClient;
  let port: number;
  let queue: ReturnType<typeof openBatchQueue>;

  beforeAll(async () => {
    config = loadConfig({
      ...process.env,
      SIGFLOW_REDIS_PREFIX: `t-apisec-${id}`,
      SIGFLOW_API_KEYS: [...roles.map((r) => `${keyOf[r]}:${r}`), `${privacyKey}:privacy`].join(','),
      SIGFLOW_API_MAX_RANGE_MS: String(MAX_RANGE_MS),
    });
    redis = createRedis(config.redis);
    queueRedis = createRedis(config.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null });
    queue = openBatchQueue(config, queueRedis);
    app = await buildApi({ config, redis, queue, logger: createLogger('api-security', 'silent') });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await deleteByPrefix(redis, config.redis.keyPrefix);
    redis?.disconnect();
    queueRedis?.disconnect();
  });

  const inject = (options: InjectOptions): Promise<LightMyRequestResponse> => app.inject(options);
  const as = (role: Role) => ({ 'x-api-key': keyOf[role] });

  it('every route the router holds: 401 without or with a wrong key, 403 below its role, served at or above', async () => {
    const routes = routesOf(app).filter((r) => !isPublic(r.path));
    const violations: string[] = [];
    const wrong: Record<string, string>[] = [
      { 'x-api-key': 'wrong' },
      { 'x-api-key': keyOf.ops.toUpperCase() },
      { 'x-api-key': keyOf.ops.slice(0, -1) },
      { 'x-api-key': `${keyOf.ops}x` },
      { 'x-api-key': 'ops' },
      { 'x-api-key': "' OR 1=1 --" },
      { 'x-api-key': 'k'.repeat(10_000) },
      { authorization: 'Bearer wrong' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` },
      { authorization: `Basic ${Buffer.from(`${keyOf.ops}:`).toString('base64')}` }, // the key as user name, no password
      { authorization: 'Basic !!!not-base64' },
      { authorization: `Digest ${keyOf.ops}` },
      { authorization: keyOf.ops }, // no scheme
      { 'x-api-key': '', authorization: '' },
    ];
    const minimal: Record<string, Role> = {};
    for (const route of routes) {
      const url = concrete(route.path, config.batch.queueName);
      const base: InjectOptions = { method: route.method as InjectOptions['method'], url };
      const none = await inject(base);
      if (none.statusCode !== 401) violations.push(`${route.method} ${url} without a key: ${none.statusCode}`);
      for (const headers of wrong) {
        const res = await inject({ ...base, headers });
        if (res.statusCode !== 401) violations.push(`${route.method} ${url} with ${JSON.stringify(headers).slice(0, 80)}: ${res.statusCode}`);
      }
      const statuses = [];
      for (const role of roles) statuses.push((await inject({ ...base, headers: as(role) })).statusCode);
      const first = statuses.findIndex((s) => s !== 401 && s !== 403);
      if (first < 0) {
        violations.push(`${route.method} ${url}: no role may use it (${statuses.join(',')})`);
        continue;
      }
      const least = roles[first]!;
      minimal[`${route.method} ${route.path}`] = least;
      statuses.forEach((s, i) => {
        if (i < first && s !== 403) violations.push(`${route.method} ${url} as ${roles[i]}: ${s}, expected 403`);
        if (i >= first && (s === 401 || s === 403 || s >= 500)) violations.push(`${route.method} ${url} as ${roles[i]}: ${s}`);
      });
      const privacy = (await inject({ ...base, headers: { 'x-api-key': privacyKey } })).statusCode;
      if (isPrivacyRoute(route.path) ? privacy === 401 || privacy === 403 || privacy >= 500 : privacy !== 403) {
        violations.push(`${route.method} ${url} with the privacy key: ${privacy}`);
      }
      const rule = expectedRole.find(([re, , methods]) => re.test(route.path) && (!methods || methods.includes(route.method)));
      if (!rule) violations.push(`${route.method} ${route.path} is a new protected route (least role ${least}): add it to expectedRole`);
      else if (rule[1] !== least) violations.push(`${route.method} ${route.path}: least role ${least}, expected ${rule[1]}`);
    }
    // The router and the OpenAPI document agree: every documented route is protected and declared so.
    const docs = (await inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const [p, ops] of Object.entries(docs.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const routerPath = p.replace(/\{(\w+)\}/g, ':$1');
        if (!routes.some((r) => r.path === routerPath && r.method === method.toUpperCase())) violations.push(`${method} ${p} documented but not protected`);
        if (!op.security?.length) violations.push(`${method} ${p} documented without security`);
      }
    }
    recordScenario({
      suite: 'input',
      scenario: `api-auth (${routes.length} route-methods x ${wrong.length + 4} credentials)`,
      eventsSent: 0,
      eventsInViews: 0,
      lost: 0,
      doubleCounted: 0,
      maxRecoveryMs: null,
      requestsFailed: violations.length,
      result: violations.length === 0 ? 'pass' : 'fail',
      details: { routes: routes.length, leastRoles: minimal, violations: violations.slice(0, 10) },
    });
    expect(violations).toEqual([]);
    expect(routes.length).toBeGreaterThan(40); // the ops board's routes are in the list
  });

  it('hostile values in every documented parameter: 400 naming it or a correct empty answer, never 5xx', async () => {
    const docs = (await inject({ url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>>;
    };
    const violations: Violation[] = [];
    let sent = 0;
    const baseBody: Record<string, Record<string, unknown>> = {
      '/v1/jobs/reprocess': { from: '2026-11-20T10:00Z', to: '2026-11-20T12:00Z' },
      // A schedule the job contract accepts (compact needs an hour), so each fuzzed field is the only fault.
      '/v1/schedules/{name}': { every: 60_000, jobName: 'compact', data: { hour: '2026-11-20T10:00Z' } },
      // A valid budget, so each fuzzed field (or path value) is the only fault.
      '/v1/campaigns/{campaignId}/budget': { dailyBudgetMicros: 1_000_000 },
      '/v1/segments/{name}': { rule: { all: [{ feature: 'flagged', op: '==', value: true }] } },
      // A public address, no name to resolve: only the fuzzed field can be at fault.
      '/v1/alerts/rules/{name}': { metric: 'ctr', condition: { op: '<', threshold: 0.01 }, webhook: { url: 'https://93.184.216.34/hook', secret: 'a-secret-of-16-chars' } },
      // A query the sandbox answers, so each fuzzed field (maxRows, from, to, model) is the only fault;
      // a hostile `sql` itself must be refused (400 naming sql: not one SELECT, or not SQL at all).
      '/v1/sql': { sql: 'SELECT 1' },
    };
    /** Body fields whose every string is data (free text, campaign ids): accepting one is right, the definition is removed again. */
    const dataFields: Record<string, readonly string[]> = { '/v1/segments/{name}': ['description'], '/v1/alerts/rules/{name}': ['description', 'campaign'] };
    /** Definitions named by the path: a valid name is data (created, then removed). */
    const definitionPath = (p: string) => p === '/v1/segments/{name}' || p === '/v1/alerts/rules/{name}';
    // The segment the segment routes' queries read (a query on a segment that does not exist is a 404).
    expect((await inject({ method: 'PUT', url: `/v1/segments/${samplePathValue['name']}`, headers: as('ops'), payload: baseBody['/v1/segments/{name}'] })).statusCode).toBe(201);
    // Routes with several required query parameters: the others valid, so the fuzzed one is the only fault.
    const baseQuery: Record<string, Record<string, string>> = {
      '/v1/jobs/reprocess/preview': { from: '2026-11-20T10:00Z', to: '2026-11-20T12:00Z' },
    };
    const queryWith = (p: string, name: string, values: readonly string[]) => {
      const q = new URLSearchParams(Object.entries(baseQuery[p] ?? {}).filter(([k]) => k !== name));
      for (const v of values) q.append(name, v);
      return `?${q.toString()}`;
    };
    for (const [p, ops] of Object.entries(docs.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const pathParams = (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name);
        const queryParams = (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name);
        const bodyFields = Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {});
        const urlWith = (params: Record<string, string>, query = '') =>
          `${p.replace(/\{(\w+)\}/g, (_m, name: string) => params[name] ?? encodeURIComponent(samplePathValue[name] ?? 'x'))}${query}`;
        const send = async (where: string, parameter: string, value: unknown, options: InjectOptions) => {
          sent++;
          const res = await inject({ method: method.toUpperCase() as InjectOptions['method'], headers: as('ops'), ...options });
          const label = `${method.toUpperCase()} ${p} ${where} ${parameter}=${JSON.stringify(value)?.slice(0, 40)}`;
          const bad = (why: string) => violations.push({ what: `${label}: ${why}`, status: res.statusCode, body: res.body.slice(0, 200) });
          if (res.statusCode >= 500) return bad('server error');
          if (res.statusCode === 400) {
            const body = res.json() as { parameter?: string; code?: string };
            // A URL that is not valid percent-encoding is refused before routing (no parameter to name).
            if (body.parameter === undefined && body.code === 'FST_ERR_BAD_URL') return;
            if (body.parameter !== parameter) bad(`400 names ${JSON.stringify(body.parameter)}`);
            return;
          }
          if (res.statusCode === 414 && where === 'path') return; // over the router's 1,024-character parameter limit
          if (res.statusCode === 404 && where === 'path' && (parameter === 'id' || parameter === 'name')) return; // no such job
          if (res.statusCode === 404 && where === 'path' && parameter === 'campaignId') return; // no such budget
          if (res.statusCode >= 400) return bad('unexpected status');
          if (method === 'put' && definitionPath(p) && ((where === 'path' && typeof value === 'string') || (where === 'body' && typeof value === 'string' && dataFields[p]?.includes(parameter)))) {
            const url = p.replace('{name}', where === 'path' ? encodeURIComponent(value as string) : encodeURIComponent(samplePathValue['name']!));
            if (where === 'path') await inject({ method: 'DELETE', url, headers: as('ops') });
            return;
          }
          // Any printable id is a legitimate (if odd) campaign id, and a number in range a legitimate
          // budget or target: data, stored as given, not interpreted. Removed again.
          if (method === 'put' && p === '/v1/campaigns/{campaignId}/budget' && res.statusCode === 200) {
            const stored = res.json() as { campaignId: string; dailyBudgetMicros: number; targetRoas: number };
            if (where === 'body' && stored[parameter as 'dailyBudgetMicros' | 'targetRoas'] !== value) bad('stored another value than sent');
            await inject({ method: 'DELETE', url: `/v1/campaigns/${encodeURIComponent(stored.campaignId)}/budget`, headers: as('ops') });
            return;
          }
          // Any name of the scheduler-id form is a legitimate (if odd) scheduler id: data, not a path.
          if (method === 'put' && where === 'path' && typeof value === 'string' && /^[A-Za-z0-9:_.-]{1,64}$/.test(value)) {
            await queue.removeJobScheduler(value);
            return;
          }
          // Any printable id is a person's id: data, bound as a parameter. The request is withdrawn.
          if (method === 'delete' && p === '/v1/users/{userId}' && res.statusCode === 202) {
            await (await queue.getJob((res.json() as { requestId: string }).requestId))?.remove();
            return;
          }
          // A 2xx must be the correct answer for a value that is data: nothing (this Redis prefix is empty).
          if (method !== 'get') return bad(`${method} accepted a hostile value`);
          const type = String(res.headers['content-type'] ?? '');
          if (type.startsWith('text/csv')) {
            if (res.body.trim() !== 'start,end,key,conversions,revenue,source') bad('CSV with rows');
            return;
          }
          if (!type.startsWith('application/json')) return;
          const body = res.json() as Record<string, unknown>;
          for (const list of ['rows', 'signals', 'elements', 'jobs', 'sessions', 'schedules', 'members', 'alerts']) {
            const rows = body[list];
            // A segment's size is a level: zero members in every bucket is its empty answer.
            const zeroSizes = p.endsWith('/size') && Array.isArray(rows) && (rows as { size: number; entered: number; left: number }[]).every((r) => r.size === 0 && r.entered === 0 && r.left === 0);
            if (Array.isArray(rows) && rows.length > 0 && !zeroSizes) bad(`${list} not empty`);
          }
          if (body['known'] === true) bad('unknown user reported as known');
        };
        for (const name of pathParams) {
          for (const value of hostile) {
            if (value === '') continue; // an empty segment is another route
            await send('path', name, value, { url: urlWith({ [name]: encodeURIComponent(value) }), payload: baseBody[p] });
          }
          // Invalid percent-encoding, an encoded unpaired surrogate, an overlong '/', encoded
          // slashes (a bare %2e%2e segment is resolved by the client itself; see the traversal test).
          for (const raw of ['%', '%ZZ', '%ED%A0%80', '%C0%AF', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc']) {
            await send('path', name, raw, { url: urlWith({ [name]: raw }), payload: baseBody[p] });
          }
        }
        for (const name of queryParams) {
          for (const value of hostile) await send('query', name, value, { url: urlWith({}, queryWith(p, name, [value])), payload: baseBody[p] });
          await send('query', name, ['1', '2'], { url: urlWith({}, queryWith(p, name, ['1', '2'])), payload: baseBody[p] });
          await send('query', name, '%FF', { url: urlWith({}, `${queryWith(p, name, [])}${baseQuery[p] ? '&' : ''}${name}=%FF`), payload: baseBody[p] });
        }
        for (const name of bodyFields) {
          // A time zone only counts with a cron pattern.
          const body = name === 'tz' ? { pattern: '0 3 * * *', jobName: 'compact', data: { hour: '2026-11-20T10:00Z' } } : baseBody[p];
          for (const value of hostileJson) {
            // Schedule data objects too: the API checks them with the job contract (400 naming data).
            await send('body', name, value, { url: urlWith({}), payload: { ...body, [name]: value } });
          }
        }
        // Unknown and prototype-polluting parameters: 400 naming them, and nothing polluted.
        if (method === 'get') {
          for (const q of ['__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'unknown=1']) {
            const res = await inject({ url: urlWith({}, `?${q}`), headers: as('ops') });
            sent++;
            if (res.statusCode !== 400) violations.push({ what: `GET ${p}?${q}`, status: res.statusCode, body: res.body.slice(0, 200) });
          }
        }
      }
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

    // Oversized ranges and limits: 400 naming the parameter, for every route with a range.
    const oversize: [string, InjectOptions][] = [];
    for (const [p, ops] of Object.entries(docs.paths)) {
      const get = ops['get'];
      if (!get?.parameters?.some((x) => x.name === 'from') || !get.parameters.some((x) => x.name === 'to')) continue;
      const url = p.replace(/\{(\w+)\}/g, (_m, name: string) => samplePathValue[name] ?? 'x');
      oversize.push(['to', { url: `${url}?from=0&to=${MAX_RANGE_MS + 3_600_000}` }]);
      oversize.push(['to', { url: `${url}?from=2000-01-01&to=2026-01-01` }]);
      oversize.push(['to', { url: `${url}?from=0&to=999999999999999` }]);
    }
    oversize.push(['to', { method: 'POST', url: '/v1/jobs/reprocess', payload: { from: 0, to: MAX_RANGE_MS + 7_200_000 } }]);
    oversize.push(['from', { method: 'POST', url: '/v1/jobs/reprocess', payload: { from: 1e20, to: 1e20 + 3_600_000 } }]);
    oversize.push(['limit', { url: '/v1/users/u1/signals?limit=1001' }]);
    oversize.push(['limit', { url: '/v1/jobs?limit=201' }]);
    oversize.push(['state', { url: `/v1/jobs?state=${'active,'.repeat(40)}` }]);
    for (const [parameter, options] of oversize) {
      const res = await inject({ ...options, headers: as('ops') });
      sent++;
      if (res.statusCode !== 400 || (res.json() as { parameter?: string }).parameter !== parameter) {
        violations.push({ what: `oversized ${options.method ?? 'GET'} ${options.url} ${JSON.stringify(options.payload ?? '')}: expected 400 naming ${parameter}`, status: res.statusCode, body: res.body.slice(0, 200) });
      }
    }
    expect(oversize.length).toBeGreaterThan(15);

    // No hostile request created a job; the export's file name is built from validated values only.
    // (Schedulers the valid PUTs made enqueue their own jobs: only recompute jobs would be the reprocess route's.)
    const recompute = (await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).filter((j) => j?.name === 'recompute');
    if (recompute.length > 0) violations.push({ what: `recompute jobs were created: ${JSON.stringify(recompute.map((j) => j.data))}`, status: 0, body: '' });
    for (const s of await queue.getJobSchedulers(0, -1)) await queue.removeJobScheduler(String(s.id ?? s.key));
    await queue.obliterate({ force: true });
    const csv = await inject({ url: `/v1/export/attribution.csv?model=linear&groupBy=campaign&from=2026-01-01&to=2026-01-02`, headers: as('analyst') });
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="attribution-linear-campaign-\d+-\d+\.csv"$/);

    recordScenario({
      suite: 'input',
      scenario: `api-hostile-parameters (${sent} requests)`,
      eventsSent: 0,
      eventsInViews: 0,
      lost: 0,
      doubleCounted: 0,
      maxRecoveryMs: null,
      requestsFailed: violations.filter((v) => v.status >= 500).length,
      result: violations.length === 0 ? 'pass' : 'fail',
      details: { requests: sent, violations: violations.slice(0, 10) },
    });
    expect(violations.slice(0, 15)).toEqual([]);
    expect(sent).toBeGreaterThan(1_000);
  });

  it('path traversal on the routes that serve files is refused; nothing outside them is served', async () => {
    const outside = /root:x:0:0|"workspaces"|"name": ?"sigflow"|SIGFLOW_|BEGIN [A-Z ]*PRIVATE KEY/;
    const targets = ['etc/passwd', 'package.json', 'services/api/package.json', '.env'];
    const paths: string[] = [];
    for (const base of ['/docs/static/', '/docs/', '/ops/queues/static/', '/ops/queues/', '/dashboard.js/', '/']) {
      for (const t of targets) {
        paths.push(`${base}../../../../../../${t}`);
        paths.push(`${base}..%2f..%2f..%2f..%2f..%2f..%2f${t.replaceAll('/', '%2f')}`);
        paths.push(`${base}%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/${t}`);
        paths.push(`${base}%252e%252e%252f%252e%252e%252f${t}`);
        paths.push(`${base}....//....//....//${t}`);
        paths.push(`${base}..%5c..%5c..%5c..%5c${t.replaceAll('/', '%5c')}`);
        paths.push(`${base}%2f${t.replaceAll('/', '%2f')}`);
        paths.push(`${base}${path.join(repoRoot, t)}`);
        paths.push(`${base}..%00/${t}`);
      }
    }
    const violations: Violation[] = [];
    for (const p of paths) {
      const headerSets: Record<string, string>[] = [{}, as('ops'), { authorization: `Basic ${Buffer.from(`x:${keyOf.ops}`).toString('base64')}` }];
      for (const headers of headerSets) {
        const res = await rawRequest(port, { path: p, headers });
        if (res.status === 0 || res.status >= 500) violations.push({ what: p, status: res.status, body: res.error ?? res.body.slice(0, 200) });
        else if (outside.test(res.body)) violations.push({ what: `${p} served a file from outside`, status: res.status, body: res.body.slice(0, 200) });
        else if (res.status === 200 && !p.startsWith('/ops/queues/')) violations.push({ what: `${p} answered 200`, status: res.status, body: res.body.slice(0, 200) });
      }
    }
    // The static routes do work (so the refusals above are not a dead route).
    expect((await rawRequest(port, { path: '/docs/static/index.css' })).status).toBe(200);
    recordScenario({
      suite: 'input',
      scenario: `api-path-traversal (${paths.length * 3} requests)`,
      eventsSent: 0,
      eventsInViews: 0,
      lost: 0,
      doubleCounted: 0,
      maxRecoveryMs: null,
      requestsFailed: violations.filter((v) => v.status === 0 || v.status >= 500).length,
      result: violations.length === 0 ? 'pass' : 'fail',
      details: { violations: violations.slice(0, 10) },
    });
    expect(violations).toEqual([]);
  });

  it('hostile job payloads (API schedules, bull board, CLI): refused; a real worker fails them at once and touches no file', async () => {
    const timeValues: unknown[] = [...hostileJson, '../../etc/passwd 2020', 'x 1', 'C:\\Windows 2020', 8.64e15 + 3_600_000, '8700000000000000', -3_600_000];
    const violations: string[] = [];
    // 1. The job data check the worker and the CLI share.
    const fields: Record<string, string[]> = { recompute: ['from', 'to'], 'recompute-part': ['from', 'to'], reconcile: ['from', 'to'], 'train-attribution': ['from', 'to'], compact: ['hour'], 'recompute-dirty': [], 'enforce-retention': [], 'delete-user': [] };
    const valid: Record<string, Record<string, unknown>> = {
      recompute: { from: '2026-11-20T10:00Z', to: '2026-11-20T12:00Z' },
      'recompute-part': { from: '2026-11-20T10:00Z', to: '2026-11-20T12:00Z' },
      reconcile: { from: '2026-11-20T10:00Z', to: '2026-11-20T12:00Z' },
      'train-attribution': {},
      compact: { hour: '2026-11-20T10:00Z' },
      'recompute-dirty': {},
      'enforce-retention': {},
      'delete-user': { userId: 'someone' },
    };
    let checked = 0;
    for (const kind of jobKinds) {
      expect(() => parseJobRequest(kind, valid[kind])).not.toThrow();
      for (const field of fields[kind] ?? []) {
        for (const value of timeValues) {
          checked++;
          try {
            const request = parseJobRequest(kind, { ...valid[kind], [field]: value });
            violations.push(`${kind}.${field}=${JSON.stringify(value)?.slice(0, 40)} accepted as ${JSON.stringify(request)}`);
          } catch (err) {
            if (!(err instanceof InvalidJobDataError)) violations.push(`${kind}.${field}=${JSON.stringify(value)?.slice(0, 40)}: ${String(err)}`);
          }
        }
      }
      for (const extra of ['path', 'root', '__proto__', "'; DROP TABLE x; --"]) {
        checked++;
        expect(() => parseJobRequest(kind, JSON.parse(`{${Object.entries(valid[kind]!).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)},`).join('')}${JSON.stringify(extra)}:"../../x"}`))).toThrow(InvalidJobDataError);
      }
    }
    expect(() => parseJobRequest('../../bin/sh', {})).toThrow(InvalidJobDataError);

    // 2. The CLI refuses the same before enqueueing anything (exit code 2).
    const lines: string[] = [];
    const out: CliOutput = { log: (l) => lines.push(l), error: (l) => lines.push(l) };
    const cliCases = [
      ['compact', '--hour', '../../etc/passwd'],
      ['compact', '--hour', '../../etc/passwd 2020'],
      ['compact', '--hour', '/etc/passwd'],
      ['compact', '--hour', '8700000000000000'],
      ['reprocess', '--from', "' OR 1=1 --", '--to', '2026-11-20T12:00Z'],
      ['reprocess', '--from', '2026-11-20T10:00Z', '--to', '99999999999999999999'],
      ['reconcile', '--from', 'x 1', '--to', '2026-11-20T12:00Z'],
      ['train', '--from', '%2e%2e%2f%2e%2e%2f'],
      ['reprocess', '--from', '2026-11-20T10:00Z', '--to', '2026-11-20T12:00Z', '--root', '/'],
    ];
    for (const args of cliCases) {
      const code = await runCli(args, config, out);
      if (code !== 2) violations.push(`jobs ${args.join(' ')}: exit ${code}`);
    }
    expect(await queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });

    // 3. The API checks schedule data with the job contract (400); were it stored, the worker must refuse it.
    const scheduled = await inject({ method: 'PUT', url: `/v1/schedules/sec-${id}`, headers: as('ops'), payload: { every: 3_600_000, jobName: 'compact', data: { hour: '../../etc/passwd' } } });
    expect(scheduled.statusCode).toBeLessThan(500);
    if (scheduled.statusCode === 200) expect(() => parseJobRequest('compact', (scheduled.json() as { data: unknown }).data)).toThrow(InvalidJobDataError);
    await queue.removeJobScheduler(`sec-${id}`);
    await queue.obliterate({ force: true });

    // 4. A real worker over a temporary archive: hostile jobs (as the bull board's "add job" or a
    //    stored schedule would enqueue them) fail at once; a valid one completes; no file appears
    //    outside the archive root, and no hour folder without a date (dt=NaN).
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-sec-'));
    const archive = path.join(base, 'archive');
    fs.mkdirSync(path.join(base, 'outside'), { recursive: true });
    fs.writeFileSync(path.join(base, 'outside', 'canary.txt'), 'canary');
    const workerConfig = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: config.redis.keyPrefix, SIGFLOW_ARCHIVE_DIR: archive });
    const workerRedis = createRedis(workerConfig.redis);
    const workerConnection = bullConnection(workerConfig);
    let worker: BatchWorker | undefined;
    const hostileJobs: [string, Record<string, unknown>][] = [
      ['compact', { hour: '../../etc/passwd', force: true }],
      ['compact', { hour: '../../outside 2020', force: true }],
      ['compact', { hour: '/etc/passwd', force: true }],
      ['compact', { hour: 8.7e15, force: true }],
      ['compact', { hour: 1e20, force: true }],
      ['recompute', { from: "' OR 1=1 --", to: '2026-11-20T12:00Z' }],
      ['recompute', { from: 8.64e15, to: 8.7e15 }],
      ['reconcile', { from: 'x 1', to: '2026-11-20T12:00Z' }],
      ['train-attribution', { from: '"; DROP TABLE x; --' }],
      ['compact', { hour: '2026-11-20T10:00Z', path: '../../outside/canary.txt' }],
      ['../../bin/sh', {}],
    ];
    try {
      worker = startBatchWorker({
        context: createBatchContext(workerConfig, workerRedis),
        registry: createMetricsRegistry('batch'),
        logger: createLogger('batch-sec', 'silent'),
        connection: workerConnection,
      });
      const jobs = [];
      for (const [name, data] of hostileJobs) jobs.push({ name, data, job: await queue.add(name, data, { attempts: 3, backoff: { type: 'fixed', delay: 100 } }) });
      const control = await queue.add('compact', { hour: '2026-11-20T10:00Z', force: true });
      const deadline = Date.now() + 60_000;
      for (const { name, data, job } of [...jobs, { name: 'compact (valid)', data: {}, job: control }]) {
        let state = 'waiting';
        while (Date.now() < deadline) {
          state = await job.getState();
          if (state === 'failed' || state === 'completed') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const fresh = await queue.getJob(String(job.id));
        const expectFailed = job !== control;
        if (expectFailed && (state !== 'failed' || fresh?.attemptsMade !== 1)) violations.push(`job ${name} ${JSON.stringify(data)}: ${state} after ${fresh?.attemptsMade} attempts`);
        if (!expectFailed && state !== 'completed') violations.push(`the valid compact job: ${state} ${fresh?.failedReason ?? ''}`);
      }
    } finally {
      await worker?.close();
      workerRedis.disconnect();
      workerConnection.disconnect();
    }
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        files.push(path.relative(base, full));
      }
    };
    walk(base);
    for (const f of files) {
      if (!(f === 'outside' || f === path.join('outside', 'canary.txt') || f === 'archive' || f.startsWith(`archive${path.sep}`))) violations.push(`file written outside the archive: ${f}`);
      if (f.includes('NaN')) violations.push(`an hour folder without a date: ${f}`);
    }
    expect(fs.readFileSync(path.join(base, 'outside', 'canary.txt'), 'utf8')).toBe('canary');
    fs.rmSync(base, { recursive: true, force: true });

    recordScenario({
      suite: 'input',
      scenario: `batch-hostile-job-payloads (${checked} checks, ${cliCases.length} CLI, ${hostileJobs.length} worker jobs)`,
      eventsSent: 0,
      eventsInViews: 0,
      lost: 0,
      doubleCounted: 0,
      maxRecoveryMs: null,
      requestsFailed: 0,
      result: violations.length === 0 ? 'pass' : 'fail',
      details: { violations: violations.slice(0, 10), apiScheduleWithHostileData: scheduled.statusCode },
    });
    expect(violations).toEqual([]);
  });

  it('no DuckDB statement is built from anything but reviewed constants', () => {
    // Every `${...}` inside SQL text must be one of these: constants of the code (table and column
    // lists, the hour length, the bound file-list placeholder), never request or job data, which
    // goes in as bound parameters ($from, $to, $files, $path).
    const reviewed = new Set([
      'table',
      'temp',
      'RAW',
      'ROWS',
      'allColumns',
      'archiveColumnList',
      'columns',
      'eventSelect',
      'ruleColumns.select',
      'dictionaryLists',
      'enumName(column)',
      'column',
      'copyKeys',
      // The ids of named temp tables (archive-scan.ts markRepeatedIds) and their table's name.
      'copyIds',
      'repeatedIds',
      'eventColumns',
      'selectList',
      'firstCopyQualify',
      'HOUR_MS',
      'archiveFileFormat',
      // A compacted file's COPY options (compact-hour.ts): archiveFileFormat and a dictionary
      // limit from the merged files' row count in their footers.
      'format',
      "readFiles('files')",
      'archiveColumnsDdl()',
      'eventJsonStructType',
      "options.where ?? 'true'",
      'where',
      't',
      'param',
      "table.columns.map((c) => `${c.name} ${c.type}`).join(', ')",
      // Archive column names of a constant set, NULL for the others (archive-scan.ts keptColumns).
      'keptColumns(kept)',
      // archive-scan.ts loadArchiveRows: `CREATE OR REPLACE TEMP TABLE ${table} AS` for the first batch
      // of files, `INSERT INTO ${table}` for the others (the reviewed `table`).
      'into',
      "keptColumns(contextColumns, 'n')",
      'keptColumns(verdictColumns)',
      // Touchpoint verdicts (touchpoint-verdicts.ts): the verdict column names, as a list or as
      // typed NULLs, and the name of the rules' known-verdict column.
      'verdictColumnList',
      'nullVerdictColumns',
      'knownVerdictColumn',
      // The analysts' view columns: names of the code, dictionaries bound as $d0...
      'decodedColumns',
      "columns.map((c) => `${c.name} DOUBLE`).join(', ')",
      // The SQL sandbox's catalogue (services/api/src/sql/sandbox-views.ts, redis-table-rows.ts):
      // table and column names and types of sql-catalogue.ts, typed NULLs of them, the hour
      // derived from the dt=/hr= folders, read_parquet's constant options, and the name of the
      // DuckDB variable holding a glob (the archive's path is bound into it, never spliced).
      // An analyst's own SQL is never a template: it runs as sent, in the sandbox worker only.
      'table.name',
      "table.columns.map((c) => `${quoted(c.name)} ${c.type}`).join(', ')",
      'typedEmptyColumns',
      'hourOfFolders',
      'hiveOptions',
      'source.variable',
      'verdictRows(hasVerdictFiles)',
    ]);
    const sql = /\b(SELECT\s[\s\S]*\sFROM|CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?TABLE|COPY\s*\(|DROP\s+TABLE|INSERT\s+INTO|DELETE\s+FROM|read_parquet\s*\(|UPDATE\s+\w+\s+SET)/i;
    const dirs = ['jobs/batch/src', 'services/archiver/src', 'services/api/src', 'services/speed/src', 'services/collector/src', 'packages/store/src', 'packages/core/src', 'packages/kafka/src'];
    const found: string[] = [];
    const unreviewed: string[] = [];
    for (const dir of dirs) {
      const abs = path.join(repoRoot, dir);
      if (!fs.existsSync(abs)) continue;
      for (const file of fs.readdirSync(abs, { recursive: true }) as string[]) {
        if (!file.endsWith('.ts')) continue;
        const source = ts.createSourceFile(file, fs.readFileSync(path.join(abs, file), 'utf8'), ts.ScriptTarget.ES2022, true);
        const visit = (node: ts.Node): void => {
          if (ts.isTemplateExpression(node)) {
            const text = [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? ');
            if (sql.test(text)) {
              for (const span of node.templateSpans) {
                const e = span.expression.getText(source);
                found.push(`${dir}/${file}: ${e}`);
                if (!reviewed.has(e)) unreviewed.push(`${dir}/${file}:${source.getLineAndCharacterOfPosition(span.getStart()).line + 1}: \${${e}}`);
              }
              return; // nested templates belong to the reviewed expression
            }
          }
          // SQL glued together with + is not used at all.
          if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && sql.test(node.getText(source))) {
            unreviewed.push(`${dir}/${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: SQL built with +`);
          }
          ts.forEachChild(node, visit);
        };
        visit(source);
      }
    }
    expect(found.length).toBeGreaterThan(10);
    expect(unreviewed).toEqual([]);
  });
});
