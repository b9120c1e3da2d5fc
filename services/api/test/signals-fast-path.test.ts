import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type RedisClient } from '@sigflow/store';
import { userPartition } from '@sigflow/events';
import { requestRedisOptions } from '../src/redis-connections.js';
import { listening, startTestApi, testConfig, withKey, type keysByRole, type TestApi } from './helpers.js';

const LIMIT = 40;

/** A stored signal as the speed layer writes it (its JSON), numbered `i`. */
function storedSignal(user: string, i: number, invalid: boolean): string {
  return JSON.stringify({ event_id: `${user}-e${i}`, type: 'impression', ts: 1_000 + i, invalid, reason: invalid ? 'bot' : null, late: false, campaign_id: 'c1', ad_id: 'a1', channel: 'search' });
}

/**
 * `GET /v1/users/:userId/signals` over real HTTP: answered before fastify when the request is
 * plain (a plain id, no query or `limit` alone, a reader key within its limit), by fastify
 * otherwise, with the same answer, headers and rate limit.
 */
describe('signal reads over HTTP: the fast path answers as the route does', () => {
  let api: TestApi;
  let base: string;
  let reachedFastify: () => number;
  // Pushed oldest first, so the list holds 11 (newest) .. 0; every third one is invalid traffic.
  const user = 'fast-user.1';
  const stored = Array.from({ length: 12 }, (_, i) => storedSignal(user, i, i % 3 === 1));
  /** What the route answers, worked out from what was stored: valid signals, newest first. */
  const expected = (limit: number) => {
    const valid = stored.filter((_, i) => i % 3 !== 1).reverse().slice(0, limit);
    return `{"userId":"${user}","count":${valid.length},"signals":[${valid.join(',')}]}`;
  };
  const get = (path: string, role: keyof typeof keysByRole | null = 'reader') => fetch(`${base}${path}`, { headers: withKey(role) });
  /** A request, and whether it reached fastify. */
  const viaFastify = async (path: string, role: keyof typeof keysByRole | null = 'reader') => {
    const before = reachedFastify();
    const res = await get(path, role);
    return { res, body: await res.text(), fastify: reachedFastify() > before };
  };

  beforeAll(async () => {
    api = await startTestApi(testConfig({ SIGFLOW_API_RATE_LIMIT_PER_MINUTE: String(LIMIT) }));
    ({ base, reachedFastify } = await listening(api));
    await api.redis.lpush(api.keys.signals(userPartition(user, api.config.kafka.eventPartitions), user), ...stored);
  });
  afterAll(() => api?.close());

  it('answers the stored signals without fastify, as the route answers them through it', async () => {
    const fast = await viaFastify(`/v1/users/${user}/signals`);
    const fastLimited = await viaFastify(`/v1/users/${user}/signals?limit=3`);
    // includeInvalid=false is the default: the same read, but not a plain query.
    const routed = await viaFastify(`/v1/users/${user}/signals?limit=3&includeInvalid=false`);
    expect([fast.fastify, fastLimited.fastify, routed.fastify]).toEqual([false, false, true]);
    expect(fast.body).toBe(expected(100));
    expect(fastLimited.body).toBe(expected(3));
    expect(routed.body).toBe(expected(3));
    // The same headers on both paths (names and values), but for the date and the rate limit's count and reset (seconds, ticking).
    const headers = (res: Response) => [...res.headers].filter(([name]) => !['date', 'x-ratelimit-remaining', 'x-ratelimit-reset'].includes(name));
    expect(headers(fastLimited.res)).toEqual(headers(routed.res));
    for (const { res } of [fastLimited, routed]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
    }
    // An unknown user has no signals, on both paths.
    expect((await viaFastify('/v1/users/nobody/signals')).body).toBe('{"userId":"nobody","count":0,"signals":[]}');
    expect((await viaFastify('/v1/users/nobody/signals?includeInvalid=false')).body).toBe('{"userId":"nobody","count":0,"signals":[]}');
  });

  it("counts its answers in the route's request histogram, as fastify counts the route's", async () => {
    const served = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('sigflow_api_request_seconds_count{') && l.includes('route="/v1/users/:userId/signals"') && l.includes('status="200"'));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await served();
    expect((await viaFastify(`/v1/users/${user}/signals?limit=1`)).fastify).toBe(false);
    expect((await viaFastify(`/v1/users/${user}/signals?limit=1&includeInvalid=false`)).fastify).toBe(true);
    expect(await served()).toBe(before + 2);
  });

  it('leaves to fastify what it does not answer itself: no key, other parameters, a limit out of range, an encoded id', async () => {
    const cases: [string, keyof typeof keysByRole | null, number][] = [
      [`/v1/users/${user}/signals`, null, 401],
      [`/v1/users/${user}/signals?limit=0`, 'reader', 400],
      [`/v1/users/${user}/signals?limit=1001`, 'reader', 400],
      [`/v1/users/${user}/signals?limit=01`, 'reader', 200],
      [`/v1/users/${user}/signals?types=impression`, 'reader', 200],
      [`/v1/users/${user}/signals?unknown=1`, 'reader', 400],
      [`/v1/users/fast-user%2E1/signals?limit=2`, 'reader', 200],
    ];
    for (const [path, role, status] of cases) {
      const { res, body, fastify } = await viaFastify(path, role);
      expect({ path, status: res.status, fastify }).toEqual({ path, status, fastify: true });
      if (path.includes('%2E')) expect(body).toBe(expected(2));
    }
  });

  it('counts its answers against the same per-key rate limit as every route: the next request over it is a 429', async () => {
    // Earlier tests spent some of the reader key's budget; x-ratelimit-remaining counts down across both paths.
    const remaining: number[] = [];
    for (;;) {
      const path = remaining.length % 2 === 0 ? `/v1/users/${user}/signals?limit=1` : `/v1/users/${user}/signals?limit=1&includeInvalid=false`;
      const res = await get(path);
      if (res.status === 429) {
        expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`rate limit of ${LIMIT} requests per minute exceeded`));
        break;
      }
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      remaining.push(Number(res.headers.get('x-ratelimit-remaining')));
      expect(remaining.length).toBeLessThanOrEqual(LIMIT);
    }
    expect(remaining.at(-1)).toBe(0);
    expect(remaining).toEqual(remaining.map((_, i) => remaining[0]! - i));
    expect((await viaFastify(`/v1/users/${user}/signals`)).res.status).toBe(429);
  });
});

describe('signal reads over HTTP while Redis does not answer', () => {
  let api: TestApi;
  let frozen: RedisClient;
  let silent: net.Server;
  const sockets = new Set<net.Socket>();

  afterAll(async () => {
    await api?.close().catch(() => undefined);
    frozen?.disconnect();
    for (const s of sockets) s.destroy();
    silent?.close();
  });

  it("hands the request to fastify, which answers the route's 503", async () => {
    // A server that accepts connections and never answers: every command times out.
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const config = testConfig();
    frozen = createRedis({ ...config.redis, url: `redis://127.0.0.1:${(silent.address() as AddressInfo).port}` }, { ...requestRedisOptions(config), commandTimeout: 200 });
    frozen.on('error', () => undefined);
    api = await startTestApi(config, { redis: frozen, analyticsRedis: frozen });
    const { base, reachedFastify } = await listening(api);
    const res = await fetch(`${base}/v1/users/u1/signals`, { headers: withKey('reader') });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: 'Redis is unavailable; retry later', statusCode: 503 });
    expect(reachedFastify()).toBe(1);
  });
});
