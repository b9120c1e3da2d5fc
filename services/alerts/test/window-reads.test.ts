// What an evaluation reads, from speed views written as the speed layer writes them (real Redis,
// a key prefix of its own): CTR and invalid share of the campaign rollup, conversions of a model,
// and spend_pace from the spend views and the budget ops set.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisClient, createRedis, deleteKeysWithPrefix, StoreKeys } from '@sigflow/store';
import { speedKeyspace } from '@sigflow/store/batch';
import { changeBudget } from '@sigflow/store/bidding';
import type { StoredAlertRule, StoredAlertSeries, AlertEpisode } from '@sigflow/store/segments-alerts';
import { windowViewCommands } from '@sigflow/store/views';
import { loadConfig } from '@sigflow/config';
import { alertMetricValue, defaultBiddingSettings, type ViewDeltas } from '@sigflow/core';
import { readWindowCounts } from '../src/alert-window-reads.js';
import { evaluateWindow } from '../src/window-evaluation.js';

const M = 60_000;
const DAY = Date.UTC(2026, 0, 5);
const W = DAY + 6 * 3_600_000; // 06:00 UTC: a quarter of the budget day

describe('window reads of the alerts (real Redis)', () => {
  const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: `t-alert-reads-${randomUUID().slice(0, 8)}` });
  const keys = new StoreKeys(config.redis.keyPrefix);
  let redis: RedisClient;

  beforeAll(async () => {
    redis = createRedis(config.redis);
    const deltas = (p: number): ViewDeltas => ({
      // Partition 0 and 1 each hold half of window W's touchpoints (the reader sums the partitions).
      windowMetrics: [{ windowStart: W, campaign_id: 'c1', ad_id: `a${p}`, impressions: 100, clicks: 3, invalidImpressions: 10, invalidClicks: 2 }],
      spend: [
        { windowStart: DAY + 30 * M, campaign_id: 'c1', channel: 'search', spend: 50_000 * (p + 1), invalidSpend: 0, clicks: 1 },
        { windowStart: W, campaign_id: 'c1', channel: 'search', spend: 999_999, invalidSpend: 0, clicks: 1 },
      ],
      attribution: [{ windowStart: W, model: 'last_touch', campaign_id: 'c1', channel: 'search', conversions: 1, revenue: 10 }],
      heatmap: [],
      pageActivity: [],
      invalidTraffic: [],
      eventCounts: [],
      counts: { events: 0, duplicates: 0, late: 0, invalid: 0 },
    });
    for (const p of [0, 1]) {
      const pipe = redis.pipeline();
      for (const [cmd, ...args] of windowViewCommands(speedKeyspace(keys, p), deltas(p), 3_600)) pipe.call(cmd, ...args);
      await pipe.exec();
    }
    await changeBudget(redis, keys, 'c1', { dailyBudgetMicros: 1_000_000, timeZone: 'UTC', targetRoas: 1, updatedAt: 0, updatedBy: { key: 'k', role: 'ops' } }, { at: 0, by: { key: 'k', role: 'ops' } });
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
  });

  it('sums the partitions: CTR, invalid share, conversions; spend_pace at the window end', async () => {
    const counts = await readWindowCounts(redis, keys, 4, config.rules, defaultBiddingSettings, { from: W - M, to: W, campaigns: ['c1'], models: new Set(['last_touch']), spend: true });
    const window = counts.window('c1', W, 'last_touch', true);
    expect(alertMetricValue('ctr', window)).toBe(6 / 200);
    expect(alertMetricValue('invalid_share', window)).toBe(24 / 230);
    expect(alertMetricValue('conversions', window)).toBe(2);
    // Spend before 06:01: 50,000 + 100,000 at 00:30 and 999,999 x 2 in window W; at W's end (06:01) the
    // elapsed share is 361/1440 of the day.
    expect(alertMetricValue('spend_pace', window)).toBeCloseTo((150_000 + 1_999_998) / (1_000_000 * (361 / 1440)), 9);
    // The window before: only the 00:30 spend had ended.
    expect(alertMetricValue('spend_pace', counts.window('c1', W - M, 'last_touch', true))).toBeCloseTo(150_000 / (1_000_000 * (360 / 1440)), 9);
  });

  it('a spend_pace rule fires at the window that goes over it', async () => {
    const counts = await readWindowCounts(redis, keys, 4, config.rules, defaultBiddingSettings, { from: W - M, to: W, campaigns: ['c1'], models: new Set(), spend: true });
    const rule: StoredAlertRule = { name: 'overspend', description: '', metric: 'spend_pace', campaign: 'c1', condition: { op: '>', threshold: 1.5 }, for: 1, model: 'last_touch', webhook: { url: 'https://93.184.216.34/', secret: 's'.repeat(16) }, createdAt: 0, updatedAt: 0 };
    const ctx = { keys, windowMs: M, rules: [rule], campaigns: [], series: new Map<string, StoredAlertSeries>(), episodes: new Map<string, AlertEpisode>(), now: 1 };
    expect(evaluateWindow(ctx, counts, W - M).fired).toEqual([]); // pace 0.6
    expect(evaluateWindow(ctx, counts, W).fired.map((e) => [e.rule, e.campaign, e.firedWindow])).toEqual([['overspend', 'c1', W]]);
  });
});
