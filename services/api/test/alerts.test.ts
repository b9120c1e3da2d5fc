import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDelivery, AlertEpisode } from '@sigflow/store/segments-alerts';
import { startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

const NOW = Date.UTC(2026, 0, 5, 12);
const publicHook = 'https://93.184.216.34/sigflow-hook';
const rule = (url: string, extra: Record<string, unknown> = {}) => ({ metric: 'ctr', campaign: 'c1', condition: { op: 'drop_pct', threshold: 50 }, for: 3, webhook: { url, secret: 'a-secret-of-16-chars' }, ...extra });

describe('alert rules and episodes through the API', () => {
  let api: TestApi;
  let loopback: TestApi;
  const put = (on: TestApi, name: string, body: unknown, role: 'ops' | 'reader' = 'ops') => on.app.inject({ method: 'PUT', url: `/v1/alerts/rules/${name}`, headers: withKey(role), payload: body as object });
  const get = (url: string, role: 'ops' | 'reader' = 'ops') => api.app.inject({ method: 'GET', url, headers: withKey(role) });

  beforeAll(async () => {
    api = await startTestApi(testConfig({ SIGFLOW_ALERTS_MAX_RULES: '3' }), { now: () => NOW });
    loopback = await startTestApi(testConfig({ SIGFLOW_ALERTS_WEBHOOK_ALLOW: '127.0.0.0/8,::1/128' }), { now: () => NOW });
  });
  afterAll(async () => {
    await api?.close();
    await loopback?.close();
  });

  it('ops create, change, read and delete a rule; the secret is never served', async () => {
    const created = await put(api, 'ctr-drop', rule(publicHook));
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual({ name: 'ctr-drop', metric: 'ctr', campaign: 'c1', condition: { op: 'drop_pct', threshold: 50 }, for: 3, model: 'last_touch', description: '', webhook: { url: publicHook, secretSet: true }, createdAt: NOW, updatedAt: NOW });
    expect((await put(api, 'ctr-drop', rule(publicHook, { for: 2 }))).statusCode).toBe(200);
    expect((await get('/v1/alerts/rules/ctr-drop')).json().for).toBe(2);
    expect((await get('/v1/alerts/rules')).body).not.toContain('a-secret-of-16-chars');
    expect((await put(api, 'x', rule(publicHook), 'reader')).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'DELETE', url: '/v1/alerts/rules/ctr-drop', headers: withKey('ops') })).json()).toEqual({ deleted: 'ctr-drop' });
    expect((await get('/v1/alerts/rules/ctr-drop')).statusCode).toBe(404);
  });

  it('refuses webhook targets on file:, other schemes, with credentials, or on private, loopback and link-local addresses (400 naming webhook.url)', async () => {
    const cases: [string, RegExp][] = [
      ['file:///etc/passwd', /scheme file: is not allowed/],
      ['ftp://93.184.216.34/x', /scheme ftp:/],
      ['https://admin:hunter2@93.184.216.34/hook', /credentials/],
      ['http://127.0.0.1:7000/v1/jobs', /private, loopback, link-local/],
      ['http://localhost:9200/', /private, loopback, link-local/],
      ['http://169.254.169.254/latest/meta-data/', /private, loopback, link-local/],
      ['http://10.0.0.8/hook', /private, loopback, link-local/],
      ['http://192.168.1.10/hook', /private, loopback, link-local/],
      ['http://[::1]:8080/', /private, loopback, link-local/],
      ['http://[::ffff:7f00:1]/', /private, loopback, link-local/],
      ['http://2130706433/', /private, loopback, link-local/],
    ];
    for (const [url, text] of cases) {
      const res = await put(api, 'hostile', rule(url));
      expect(res.statusCode, url).toBe(400);
      expect(res.json().parameter, url).toBe('webhook.url');
      expect(res.json().error, url).toMatch(text);
    }
    expect((await get('/v1/alerts/rules/hostile')).statusCode).toBe(404);
  });

  it('allows loopback when the allow-list says so', async () => {
    expect((await put(loopback, 'local', rule('http://127.0.0.1:9/hook'))).statusCode).toBe(201);
    expect((await put(loopback, 'local', rule('http://10.0.0.8/hook'))).statusCode).toBe(400);
  });

  it('names the bad field of a rule, and refuses more rules than allowed', async () => {
    const bad = async (body: unknown, parameter: string, text: RegExp) => {
      const res = await put(api, 'bad', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().parameter).toBe(parameter);
      expect(res.json().error).toMatch(text);
    };
    await bad(rule(publicHook, { metric: 'revenue' }), 'metric', /one of/);
    await bad(rule(publicHook, { condition: { op: 'drop_pct', threshold: 500 } }), 'condition.threshold', /percentage/);
    await bad(rule(publicHook, { model: 'shapley' }), 'model', /only the conversions metric/);
    await bad(rule(publicHook, { campaign: 'a b' }), 'campaign', /campaign id/);
    await bad({ ...rule(publicHook), webhook: { url: publicHook, secret: 'short' } }, 'webhook', /secret/);
    for (const name of ['r1', 'r2', 'r3']) expect((await put(api, name, rule(publicHook))).statusCode).toBe(201);
    const over = await put(api, 'r4', rule(publicHook));
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatch(/at most 3 alert rules/);
  });

  it.each([
    [{ condition: { op: 'drop_pct', threshold: '50' } }, 'condition.threshold', /sent as a string \("50"\) where a number is expected/],
    [{ condition: { op: 'drop_pct', threshold: true } }, 'condition.threshold', /sent as a boolean \(true\) where a number is expected/],
    [{ condition: { op: 'drop_pct', threshold: null } }, 'condition.threshold', /sent as null \(null\) where a number is expected/],
  ])('refuses %j, whose JSON type the schema would coerce, naming %s, and stores nothing', async (extra, parameter, text) => {
    const res = await put(api, 'coerced', rule(publicHook, extra));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().parameter).toBe(parameter);
    expect(res.json().error).toMatch(text);
    expect((await get('/v1/alerts/rules/coerced')).statusCode).toBe(404);
  });

  it('lists episodes by state, newest first, with their deliveries', async () => {
    const episode = (id: string, state: 'firing' | 'resolved', firedAt: number): AlertEpisode => ({ id, rule: 'r1', campaign: 'c1', metric: 'ctr', condition: { op: 'drop_pct', threshold: 50 }, for: 3, state, firedWindow: NOW - 600_000, firedValue: 0, firedTrailing: 0.03, firedAt, resolvedWindow: state === 'resolved' ? NOW - 60_000 : null, resolvedValue: state === 'resolved' ? 0.03 : null, resolvedAt: state === 'resolved' ? NOW : null });
    const delivery = (state: AlertDelivery['state']): AlertDelivery => ({ state, attempts: state === 'failed' ? 6 : 1, lastError: state === 'failed' ? 'webhook answered 500' : null, at: NOW, status: state === 'failed' ? 500 : 204 });
    const { keys, redis } = api;
    await redis.hset(keys.alertEpisodes(), 'e1', JSON.stringify(episode('e1', 'resolved', 1)), 'e2', JSON.stringify(episode('e2', 'firing', 2)));
    await redis.zadd(keys.alertEpisodesByTime(), 1, 'e1', 2, 'e2');
    await redis.hset(keys.alertDeliveries(), 'e1-fired', JSON.stringify(delivery('delivered')), 'e1-resolved', JSON.stringify(delivery('failed')), 'e2-fired', JSON.stringify(delivery('delivered')));
    const ids = async (q: string) => ((await get(`/v1/alerts${q}`, 'reader')).json().alerts as { id: string }[]).map((a) => a.id);
    expect(await ids('')).toEqual(['e2', 'e1']);
    expect(await ids('?state=firing')).toEqual(['e2']);
    expect(await ids('?state=resolved')).toEqual(['e1']);
    expect(await ids('?state=failed')).toEqual(['e1']);
    expect((await get('/v1/alerts?state=failed', 'reader')).json().alerts[0].deliveries.resolved).toEqual(delivery('failed'));
    expect((await get('/v1/alerts?state=lost', 'reader')).json().parameter).toBe('state');
  });
});
