import net from 'node:net';
import { type RedisClient, createRedis } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, testConfig, withKey, type TestApi } from './helpers.js';
import { requestRedisOptions } from '../src/redis-connections.js';

// Redis frozen (a partition: the connection opens, nothing answers) or gone: requests get a
// clear 503 with Retry-After within the command timeout, never a hang and never a bare 500.
describe('API while Redis does not answer', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let frozen: RedisClient;
  let gone: RedisClient;
  let api: TestApi;
  let apiGone: TestApi;

  beforeAll(async () => {
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const config = testConfig();
    frozen = createRedis({ ...config.redis, url: `redis://127.0.0.1:${port}` }, { ...requestRedisOptions(config), commandTimeout: 200 });
    frozen.on('error', () => undefined);
    api = await startTestApi(config, { redis: frozen, analyticsRedis: frozen });
    // Nothing listens on port 1: every (re)connect is refused.
    gone = createRedis({ ...config.redis, url: 'redis://127.0.0.1:1' }, { ...requestRedisOptions(config), commandTimeout: 200, maxRetriesPerRequest: 1 });
    gone.on('error', () => undefined);
    apiGone = await startTestApi(testConfig(), { redis: gone, analyticsRedis: gone });
  });

  afterAll(async () => {
    await api?.close().catch(() => undefined);
    await apiGone?.close().catch(() => undefined);
    frozen?.disconnect();
    gone?.disconnect();
    for (const s of sockets) s.destroy();
    silent?.close();
  });

  it.each([
    ['/v1/users/u1/profile', 'reader'],
    ['/v1/users/u1/signals', 'reader'],
    ['/v1/campaigns/c1/metrics', 'analyst'],
  ] as const)('GET %s answers 503 when Redis is frozen or gone', async (url, role) => {
    for (const target of [api, apiGone]) {
      const started = Date.now();
      const res = await target.app.inject({ method: 'GET', url, headers: withKey(role) });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({ error: 'Redis is unavailable; retry later', statusCode: 503 });
      // An answer, not a hang: about twice the 1.5 s command timeout on an idle machine; the
      // margin absorbs a loaded one.
      expect(Date.now() - started).toBeLessThan(15_000);
    }
  });

  it('/readyz says so', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
  });
});
