import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageActivityIncrement, PageActivityMetric } from '@sigflow/core';
import { batchKeyspace, speedKeyspace } from '@sigflow/store/batch';
import { HOUR, MIN, deltas, setBatchHour, startTestApi, testConfig, withKey, writeViews, type TestApi } from './helpers.js';

// One hour of page activity on page "landing": batch (version v1) up to the watermark at
// H + 20 min, speed after it. Each layer holds its own numbers for every minute, so an answer
// shows which layer served which window.
const H = Date.UTC(2026, 0, 5, 10);
const W = H + 20 * MIN;
const NOW = H + 2 * HOUR;

/** One increment per minute of [from, to) for each metric, with its count. */
function minutes(from: number, to: number, rows: [PageActivityMetric, number][], page = 'landing'): PageActivityIncrement[] {
  const out: PageActivityIncrement[] = [];
  for (let t = from; t < to; t += MIN) for (const [metric, count] of rows) out.push({ page_id: page, windowStart: t, metric, count });
  return out;
}

describe('page activity routes over a real Redis', () => {
  let api: TestApi;
  const get = (url: string, role: 'analyst' | 'reader' = 'analyst') => api.app.inject({ method: 'GET', url, headers: withKey(role) });

  beforeAll(async () => {
    api = await startTestApi(testConfig(), { now: () => NOW });
    const { redis, keys } = api;
    // Speed: every minute of the hour. Batch: the minutes before the watermark, other numbers.
    const speed = minutes(H, H + HOUR, [
      [['view'], 2],
      [['scroll', 25], 2],
      [['scroll', 50], 1],
      [['form', 'signup', 'focus'], 1],
      [['form', 'signup', 'abandon'], 1],
      [['mouse', 3, 4], 2],
    ]);
    const batch = minutes(H, W, [
      [['view'], 4],
      [['scroll', 25], 3],
      [['scroll', 100], 1],
      [['form', 'signup', 'focus'], 2],
      [['form', 'signup', 'submit'], 1],
      [['form', 'search', 'submit'], 1],
      [['mouse', 3, 4], 1],
      [['mouse', 0, 10], 5],
    ]);
    await writeViews(redis, speedKeyspace(keys, 1), deltas({ pageActivity: speed }));
    await writeViews(redis, batchKeyspace(keys, 'v1'), deltas({ pageActivity: batch }));
    // A field of another shape (an older writer, a hand edit) is skipped, not mis-read.
    await redis.hset(keys.speedPageActivity(1, 'landing', H), `${W + MIN}\tscroll\t33`, 7, `${W + MIN}\tmouse\tx\t1`, 9);
    await setBatchHour(redis, keys, H, 'v1');
    await redis.set(keys.batchWatermark(), String(W));
    await redis.hset(keys.pageUrls(2), 'landing', 'https://shop.example/landing?utm=x');
    await redis.hset(keys.pageUrls(3), 'other', 'javascript:alert(1)');
  });

  afterAll(async () => {
    await api?.close();
  });

  it('scroll reach: batch windows up to the watermark, speed after; share of page views per depth', async () => {
    const res = (await get(`/v1/pages/landing/scroll-reach?from=${H}&to=${H + HOUR}`)).json();
    // Views 20 x 4 + 40 x 2 = 160; 25 %: 20 x 3 + 40 x 2 = 140; 50 %: 40; 100 %: 20.
    expect(res).toEqual({
      pageId: 'landing',
      from: H,
      to: H + HOUR,
      batchWatermark: W,
      source: 'mixed',
      pageViews: 160,
      depths: [
        { depth: 25, reached: 140, share: 140 / 160 },
        { depth: 50, reached: 40, share: 40 / 160 },
        { depth: 75, reached: 0, share: 0 },
        { depth: 100, reached: 20, share: 20 / 160 },
      ],
    });
    const before = (await get(`/v1/pages/landing/scroll-reach?from=${H}&to=${W}`)).json();
    expect(before).toMatchObject({ source: 'batch', pageViews: 80 });
  });

  it('form funnels per form, with submit and abandon rates', async () => {
    const res = (await get(`/v1/pages/landing/form-funnels?from=${H}&to=${H + HOUR}`)).json();
    expect(res.forms).toEqual([
      { formId: 'signup', focus: 80, input: 0, submit: 20, abandon: 40, submitRate: 0.25, abandonRate: 0.5 },
      { formId: 'search', focus: 0, input: 0, submit: 20, abandon: 0, submitRate: null, abandonRate: null },
    ]);
  });

  it('mouse-move grid: cells with moves, top to bottom, their share, the densest', async () => {
    const res = (await get(`/v1/pages/landing/mouse-moves?from=${H}&to=${H + HOUR}`)).json();
    // (3, 4): 20 x 1 + 40 x 2 = 100; (0, 10): 20 x 5 = 100.
    expect(res).toMatchObject({ gridPx: 32, totalMoves: 200, maxMoves: 100, source: 'mixed' });
    expect(res.cells).toEqual([
      { cellX: 3, cellY: 4, moves: 100, share: 0.5 },
      { cellX: 0, cellY: 10, moves: 100, share: 0.5 },
    ]);
  });

  it("a page's URL: the one its page views reported, http(s) only", async () => {
    expect((await get('/v1/pages/landing')).json()).toEqual({ pageId: 'landing', url: 'https://shop.example/landing?utm=x' });
    expect((await get('/v1/pages/other')).json()).toEqual({ pageId: 'other', url: null });
    expect((await get('/v1/pages/nobody')).json()).toEqual({ pageId: 'nobody', url: null });
  });

  it('needs the analyst role and names bad parameters', async () => {
    expect((await get('/v1/pages/landing/mouse-moves', 'reader')).statusCode).toBe(403);
    const bad = await get(`/v1/pages/landing/scroll-reach?from=yesterday`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/from/);
    const unknown = await get(`/v1/pages/landing/form-funnels?form=signup`);
    expect(unknown.statusCode).toBe(400);
  });
});
