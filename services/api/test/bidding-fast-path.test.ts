import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listening, startTestApi, testConfig, withKey, type keysByRole, type TestApi } from './helpers.js';

const LIMIT = 40;

/**
 * `GET /v1/bidding/:campaignId` over real HTTP: answered before fastify when the answer is in
 * memory (the fast path), by fastify otherwise, with the same answer, headers and rate limit.
 */
describe('bidding reads over HTTP: the fast path answers as the route does', () => {
  let api: TestApi;
  let base: string;
  let reachedFastify: () => number;
  const stored = JSON.stringify({ campaignId: 'cmp-f', status: 'on', channels: [{ channel: 'search', multiplier: 1.1 }] });
  const get = (path: string, role: keyof typeof keysByRole | null = 'reader') => fetch(`${base}${path}`, { headers: withKey(role) });

  beforeAll(async () => {
    api = await startTestApi(testConfig({ SIGFLOW_API_RATE_LIMIT_PER_MINUTE: String(LIMIT) }));
    ({ base, reachedFastify } = await listening(api));
    await api.redis.set(api.keys.biddingState('cmp-f'), stored);
    await api.app.inject({ method: 'PUT', url: '/v1/campaigns/cmp-f/budget', headers: withKey('ops'), payload: { dailyBudgetMicros: 1_000_000 } });
  });
  afterAll(() => api?.close());

  it('answers the stored JSON, first through fastify (from Redis), then from memory without it, alike', async () => {
    const first = await get('/v1/bidding/cmp-f');
    // Once the cache's invalidation connection is up, the first read keeps the answer: the next is the fast path's.
    let fast: Response | null = null;
    for (const until = Date.now() + 3_000; fast === null && Date.now() < until; await sleep(10)) {
      const before = reachedFastify();
      const res = await get('/v1/bidding/cmp-f');
      if (reachedFastify() === before) fast = res;
      else await res.arrayBuffer();
    }
    if (fast === null) throw new Error('no read was answered before fastify');
    for (const res of [first, fast]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      expect(await res.text()).toBe(stored);
    }
    // An analyst key may read it too (reader or above).
    expect((await get('/v1/bidding/cmp-f', 'analyst')).status).toBe(200);
  });

  it('serves a rewritten answer from the next read on (Redis invalidates the kept one)', async () => {
    const next = JSON.stringify({ campaignId: 'cmp-f', status: 'over', channels: [] });
    await api.redis.set(api.keys.biddingState('cmp-f'), next);
    const until = Date.now() + 2_000;
    let body = '';
    while (Date.now() < until && (body = await (await get('/v1/bidding/cmp-f')).text()) !== next) await sleep(5);
    expect(body).toBe(next);
  });

  it('leaves to fastify what it does not answer itself: no key, an unknown campaign, an encoded id', async () => {
    const before = reachedFastify();
    expect((await get('/v1/bidding/cmp-f', null)).status).toBe(401);
    expect((await get('/v1/bidding/cmp-unknown')).status).toBe(404);
    expect((await get('/v1/bidding/cmp%2Df')).status).toBe(200);
    expect(reachedFastify()).toBe(before + 3);
  });

  it('counts its answers against the same per-key rate limit as every route: the next request over it is a 429', async () => {
    // Earlier tests spent some of the reader key's budget; x-ratelimit-remaining counts down across both paths.
    const remaining: number[] = [];
    for (;;) {
      const path = remaining.length % 2 === 0 ? '/v1/bidding/cmp-f' : '/v1/bidding';
      const res = await get(path);
      if (res.status === 429) {
        expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`rate limit of ${LIMIT} requests per minute exceeded`));
        break;
      }
      expect(res.status).toBe(200);
      remaining.push(Number(res.headers.get('x-ratelimit-remaining')));
      expect(remaining.length).toBeLessThanOrEqual(LIMIT);
    }
    expect(remaining.at(-1)).toBe(0);
    expect(remaining).toEqual(remaining.map((_, i) => remaining[0]! - i));
    // The fast path does not answer over the limit either.
    expect((await get('/v1/bidding/cmp-f')).status).toBe(429);
  });
});
