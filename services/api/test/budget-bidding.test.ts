import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelSpend } from '@sigflow/core';
import { batchKeyspace, speedKeyspace } from '@sigflow/store/batch';
import { HOUR, MIN, deltas, keysByRole, setBatchHour, startTestApi, testConfig, withKey, writeViews, type TestApi } from './helpers.js';
import type { Redis } from 'ioredis';

const NOW = Date.UTC(2026, 6, 14, 12, 0, 0);
/** How the API names a key in change logs: 12 hex digits of its SHA-256 (computed here on its own). */
const keyName = (key: string) => `key-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

describe('budgets: ops set them, every change is logged with the key that made it', () => {
  let api: TestApi;
  const put = (campaign: string, payload: unknown, role: keyof typeof keysByRole = 'ops') =>
    api.app.inject({ method: 'PUT', url: `/v1/campaigns/${campaign}/budget`, headers: withKey(role), payload: payload as Record<string, unknown> });
  const get = (url: string, role: keyof typeof keysByRole | null = 'analyst') => api.app.inject({ method: 'GET', url, headers: withKey(role) });

  beforeAll(async () => {
    api = await startTestApi(testConfig(), { now: () => NOW });
  });
  afterAll(() => api?.close());

  it('sets a budget with its defaults (UTC, target ROAS 1.0), reads it back, names the ops key that set it', async () => {
    const res = await put('cmp-a', { dailyBudgetMicros: 250_000_000 });
    expect(res.statusCode).toBe(200);
    const by = { key: keyName(keysByRole.ops), role: 'ops' };
    expect(res.json()).toEqual({ campaignId: 'cmp-a', dailyBudgetMicros: 250_000_000, timeZone: 'UTC', targetRoas: 1, updatedAt: NOW, updatedBy: by, previous: null });
    expect(res.body).not.toContain(keysByRole.ops);
    expect((await get('/v1/campaigns/cmp-a/budget')).json()).toEqual({ campaignId: 'cmp-a', dailyBudgetMicros: 250_000_000, timeZone: 'UTC', targetRoas: 1, updatedAt: NOW, updatedBy: by });
  });

  it('answers a change with the budget it replaced, and lists every change newest first, removal included', async () => {
    const res = await put('cmp-a', { dailyBudgetMicros: 300_000_000, timeZone: 'Europe/Berlin', targetRoas: 2.5 });
    expect(res.json()).toMatchObject({ timeZone: 'Europe/Berlin', targetRoas: 2.5, previous: { dailyBudgetMicros: 250_000_000, timeZone: 'UTC' } });
    expect((await api.app.inject({ method: 'DELETE', url: '/v1/campaigns/cmp-a/budget', headers: withKey('ops') })).statusCode).toBe(204);
    expect((await get('/v1/campaigns/cmp-a/budget')).statusCode).toBe(404);
    const { changes } = (await get('/v1/campaigns/cmp-a/budget/changes')).json() as { changes: { at: number; by: unknown; before: { dailyBudgetMicros: number } | null; after: { dailyBudgetMicros: number } | null }[] };
    expect(changes.map((c) => [c.before?.dailyBudgetMicros ?? null, c.after?.dailyBudgetMicros ?? null])).toEqual([
      [300_000_000, null],
      [250_000_000, 300_000_000],
      [null, 250_000_000],
    ]);
    for (const c of changes) expect(c).toMatchObject({ at: NOW, by: { key: keyName(keysByRole.ops), role: 'ops' } });
    expect((await get('/v1/campaigns/cmp-a/budget/changes?limit=1')).json().changes).toHaveLength(1);
  });

  it('lets only ops write; analysts read; readers neither', async () => {
    expect((await put('cmp-b', { dailyBudgetMicros: 1 }, 'analyst')).statusCode).toBe(403);
    expect((await put('cmp-b', { dailyBudgetMicros: 1 }, 'reader')).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'DELETE', url: '/v1/campaigns/cmp-b/budget', headers: withKey('analyst') })).statusCode).toBe(403);
    expect((await get('/v1/campaigns/cmp-b/budget', 'reader')).statusCode).toBe(403);
    expect((await get('/v1/campaigns/cmp-b/budget', null)).statusCode).toBe(401);
    expect((await get('/v1/campaigns/cmp-b/budget')).json().error).toMatch(/has no budget; PUT \/v1\/campaigns\/cmp-b\/budget/);
  });

  it.each([
    [{ dailyBudgetMicros: 1.5 }, 'dailyBudgetMicros'],
    [{ dailyBudgetMicros: -1 }, 'dailyBudgetMicros'],
    [{ dailyBudgetMicros: 1e16 }, 'dailyBudgetMicros'],
    [{ dailyBudgetMicros: 'lots' }, 'dailyBudgetMicros'],
    // The schema would coerce these to numbers: refused before it.
    [{ dailyBudgetMicros: true }, 'dailyBudgetMicros'],
    [{ dailyBudgetMicros: '1000' }, 'dailyBudgetMicros'],
    [{ dailyBudgetMicros: 1, targetRoas: null }, 'targetRoas'],
    [{ dailyBudgetMicros: 1, timeZone: 7 }, 'timeZone'],
    [{}, 'dailyBudgetMicros'],
    [{ dailyBudgetMicros: 1, timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ dailyBudgetMicros: 1, timeZone: '' }, 'timeZone'],
    [{ dailyBudgetMicros: 1, targetRoas: 0 }, 'targetRoas'],
    [{ dailyBudgetMicros: 1, targetRoas: 5_000 }, 'targetRoas'],
    [{ dailyBudgetMicros: 1, currency: 'EUR' }, 'currency'],
  ])('refuses %j with a 400 naming %s, and stores nothing', async (payload, parameter) => {
    const res = await put('cmp-c', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().parameter).toBe(parameter);
    expect((await get('/v1/campaigns/cmp-c/budget')).statusCode).toBe(404);
  });
});

describe('bidding answers and spend', () => {
  let api: TestApi;
  const get = (url: string, role: keyof typeof keysByRole | null = 'reader') => api.app.inject({ method: 'GET', url, headers: withKey(role) });
  const stored = JSON.stringify({ campaignId: 'cmp-x', at: NOW, status: 'on', channels: [{ channel: 'search', multiplier: 1.25 }] });
  let commands: string[] = [];

  beforeAll(async () => {
    api = await startTestApi(testConfig(), { now: () => NOW });
    // Count what the API sends to Redis (ioredis sends every command through sendCommand).
    // The tests' Redis is one server (a cluster client has no single sendCommand to count).
    const redis = api.redis as Redis;
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((...args: Parameters<typeof send>) => {
      commands.push(args[0].name);
      return send(...args);
    }) as typeof send;
  });
  afterAll(() => api?.close());

  it('answers 404 without a budget, 503 with a budget the service has not answered yet, then the stored answer as is: one round trip, then none', async () => {
    expect((await get('/v1/bidding/cmp-x')).statusCode).toBe(404);
    await api.app.inject({ method: 'PUT', url: '/v1/campaigns/cmp-x/budget', headers: withKey('ops'), payload: { dailyBudgetMicros: 1_000_000 } });
    const pending = await get('/v1/bidding/cmp-x');
    expect([pending.statusCode, pending.headers['retry-after']]).toEqual([503, '1']);
    expect(pending.json().error).toMatch(/bidding service/);
    await api.redis.set(api.keys.biddingState('cmp-x'), stored);
    commands = [];
    const res = await get('/v1/bidding/cmp-x');
    // The GET, and the answer's TTL when it is kept in memory (sent together: one round trip).
    expect(commands[0]).toBe('get');
    expect(commands.slice(1)).toEqual(commands.length > 1 ? ['pttl'] : []);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toBe(stored);
    // Kept: the next reads send nothing to Redis (once the cache's invalidation connection is up).
    for (const until = Date.now() + 3_000; Date.now() < until; ) {
      commands = [];
      expect((await get('/v1/bidding/cmp-x')).body).toBe(stored);
      if (commands.length === 0) break;
    }
    expect(commands).toEqual([]);
    expect((await get('/v1/bidding/cmp-x', null)).statusCode).toBe(401);
    const list = (await get('/v1/bidding')).json();
    expect(list).toEqual({ campaigns: [JSON.parse(stored)], pending: [] });
  });

  it('serves a campaign spend per channel and hour, batch up to the watermark and speed after', async () => {
    const H0 = NOW - 3 * HOUR;
    const minutes = (from: number, to: number, channel: string, spend: number, clicks: number): ChannelSpend[] => {
      const rows: ChannelSpend[] = [];
      for (let t = from; t < to; t += MIN) rows.push({ windowStart: t, campaign_id: 'cmp-s', channel, spend, invalidSpend: 1, clicks });
      return rows;
    };
    await writeViews(api.redis, speedKeyspace(api.keys, 0), deltas({ spend: [...minutes(H0, H0 + 2 * HOUR, 'search', 1_000, 1), ...minutes(H0, H0 + HOUR, 'video', 50_000, 0)] }));
    await writeViews(api.redis, batchKeyspace(api.keys, 'v1'), deltas({ spend: minutes(H0, H0 + HOUR, 'search', 2_000, 2) }));
    await setBatchHour(api.redis, api.keys, H0, 'v1');
    await api.redis.set(api.keys.batchWatermark(), String(H0 + HOUR));
    const res = await get(`/v1/campaigns/cmp-s/spend?from=${H0}&to=${H0 + 2 * HOUR}&granularity=hour`, 'analyst');
    expect(res.statusCode).toBe(200);
    // The first hour is batch: its search spend is batch's (60 x 2,000); video exists only in the
    // speed view of that hour, so the batch answer has none. The second hour is speed.
    expect(res.json().rows).toEqual([
      { start: H0, end: H0 + HOUR, channel: 'search', spendMicros: 120_000, invalidSpendMicros: 60, clicks: 120, source: 'batch' },
      { start: H0 + HOUR, end: H0 + 2 * HOUR, channel: 'search', spendMicros: 60_000, invalidSpendMicros: 60, clicks: 60, source: 'speed' },
    ]);
    expect((await get(`/v1/campaigns/cmp-s/spend?from=${H0}&to=${H0 + HOUR}`, 'reader')).statusCode).toBe(403);
  });
});
