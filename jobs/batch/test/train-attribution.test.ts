import { type RedisClient, createRedis, StoreKeys } from '@sigflow/store';
import { readBatchHourEntries, readMarkovModel, readShapleyTable } from '@sigflow/store/batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import type { ReceivedEvent } from '@sigflow/events';
import { attributeConversion, parseShapleyTable, type Touchpoint } from '@sigflow/core';
import { createBatchContext, recomputeHours, trainAttribution, type BatchContext } from '../src/index.js';
import { GOOGLEBOT_UA, HOUR, MINUTE, SECOND, T0, click, conversion, impression, testConfig, writeArchive, endTestRun } from './helpers.js';

const channelOf = { search: { campaign: 'c-search', ad: 'a-s' }, display: { campaign: 'c-display', ad: 'a-d' } } as const;
const touch = (user: string, n: number, channel: 'search' | 'display', ts: number, extra: { ua?: string } = {}) =>
  impression({ id: `${user}-imp-${n}`, user, ts, channel, ...channelOf[channel], ...extra });

/**
 * A small archive with hand-computable exposure sets (all in one hour of the period):
 *   u1 search -> converted          u2 search            u3 display
 *   u4 search, display -> converted u5 display, search -> converted
 *   u9 search, plus an orphan click on email (invalid: no exposure)
 *   u7 a bot (social, converted): invalid, left out; u8 converts without any touchpoint: left out.
 * So v(search) = 1/3 (u1, u2, u9), v(display) = 0/1, v(display+search) = 2/2.
 */
function trainingEvents(): ReceivedEvent[] {
  const t = T0 + 5 * MINUTE;
  return [
    touch('u1', 1, 'search', t),
    conversion({ id: 'u1-conv', user: 'u1', ts: t + MINUTE, value: 10 }),
    touch('u2', 1, 'search', t),
    { ...touch('u2', 1, 'search', t), received_at: t + 5_000 }, // a duplicate copy
    touch('u3', 1, 'display', t),
    touch('u4', 1, 'search', t),
    touch('u4', 2, 'display', t + MINUTE),
    conversion({ id: 'u4-conv', user: 'u4', ts: t + 2 * MINUTE, value: 80 }),
    touch('u5', 1, 'display', t),
    touch('u5', 2, 'search', t + MINUTE),
    conversion({ id: 'u5-conv', user: 'u5', ts: t + 2 * MINUTE }),
    touch('u9', 1, 'search', t),
    click({ id: 'u9-orphan', user: 'u9', ts: t + 10 * SECOND, campaign: 'c-email', ad: 'a-e', channel: 'email' }),
    impression({ id: 'u7-imp', user: 'u7', ts: t, campaign: 'c-social', ad: 'a-so', channel: 'social', ua: GOOGLEBOT_UA }),
    conversion({ id: 'u7-conv', user: 'u7', ts: t + MINUTE, ua: GOOGLEBOT_UA }),
    conversion({ id: 'u8-conv', user: 'u8', ts: t + MINUTE }),
  ];
}

describe('train-attribution: from archive rows to the published models', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let ctx: BatchContext;

  beforeAll(async () => {
    ({ config, dir } = testConfig('train', { SIGFLOW_BATCH_VIEW_PARQUET: 'false' }));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    ctx = createBatchContext(config, redis);
    await writeArchive(
      config.archiver.dir,
      trainingEvents().map((event, i) => ({ event, partition: 0, offset: String(i) })),
    );
  });

  afterAll(() => endTestRun({ config, dir, redis }));

  it('publishes the hand-computed v(S) with a version; a conversion attributed with it gets the hand-computed credits', async () => {
    const result = await trainAttribution({ context: ctx, from: T0, to: T0 + HOUR });
    expect(result.users).toBe(6);
    expect(result.convertedUsers).toBe(3);

    const version = await redis.get(keys.shapleyVersion());
    const table = parseShapleyTable(JSON.parse((await redis.get(keys.shapleyTable())) as string));
    expect(table.version).toBe(version);
    expect(version).toBe(result.shapley.version);
    expect(table.values).toEqual({ search: 1 / 3, display: 0, 'display+search': 1 });
    // Published with how it was trained (the dashboard's header and /v1/attribution/shapley show it).
    expect(await readShapleyTable(redis, keys)).toMatchObject({ version, from: T0, to: T0 + HOUR, users: 6, convertedUsers: 3, trainedAt: expect.any(Number) });

    // phi_search = 1/2 (v(s) - 0) + 1/2 (v(s+d) - v(d)) = 1/6 + 1/2 = 2/3; phi_display = 1/2 (1 - 1/3) = 1/3.
    const path: Touchpoint[] = [
      { ts: T0, event_id: 'p1', type: 'impression', campaign_id: 'c-search', ad_id: 'a-s', channel: 'search' },
      { ts: T0 + 1, event_id: 'p2', type: 'click', campaign_id: 'c-display', ad_id: 'a-d', channel: 'display' },
    ];
    const credits = attributeConversion(path, { ts: T0 + 10, event_id: 'conv', value: 90 }, { settings: config.rules, shapley: table }).credits.shapley;
    expect(credits[0]!.fraction).toBeCloseTo(2 / 3, 12);
    expect(credits[1]!.fraction).toBeCloseTo(1 / 3, 12);
    expect(credits[0]!.revenue).toBeCloseTo(60, 9);
    expect(credits[1]!.revenue).toBeCloseTo(30, 9);

    // Training twice on the same archive publishes the same version.
    const again = await trainAttribution({ context: ctx, from: T0, to: T0 + HOUR });
    expect(again.shapley.version).toBe(result.shapley.version);
  });

  it('publishes the Markov chain with the hand-computed removal effects, and the recompute credits by them', async () => {
    // Paths: u1 s+, u2 s-, u3 d-, u4 s d +, u5 d s +, u9 s-. start->s 4/6, start->d 2/6;
    // s -> conv 2/5, null 2/5, d 1/5; d -> conv 1/3, null 1/3, s 1/3. P(conv) = 1/2;
    // without search 1/9 (effect 7/9), without display 4/15 (effect 7/15).
    const published = await readMarkovModel(redis, keys);
    expect(published?.version).toMatch(/^m/);
    const model = published!.model;
    expect(model.conversionProbability).toBeCloseTo(1 / 2, 12);
    const effects = Object.fromEntries(model.removalEffects.map((e) => [e.channel, e.effect]));
    expect(effects['search']).toBeCloseTo(7 / 9, 12);
    expect(effects['display']).toBeCloseTo(7 / 15, 12);
    expect(model.transitions.find((t) => t.from === '(start)' && t.to === 'search')?.probability).toBeCloseTo(2 / 3, 12);

    // The recompute applies the published models: u4's conversion (path search, display)
    // gets Shapley 2/3 : 1/3 and Markov 7/9 : 7/15 = 5/8 : 3/8; u5 likewise (display, search).
    const [hour] = (await recomputeHours({ context: ctx, from: T0, to: T0 + HOUR })).hours;
    const entry = (await readBatchHourEntries(redis, keys, [T0])).get(T0);
    expect(entry?.shapleyVersion).toBe(await redis.get(keys.shapleyVersion()));
    expect(entry?.markovVersion).toBe(published!.version);
    const sum = async (model: string, campaign: string) => {
      const hash = await redis.hgetall(keys.batchAttribution(model, T0, hour!.version));
      return Object.entries(hash)
        .filter(([f]) => f.split('\t')[1] === campaign && f.endsWith('\tc'))
        .reduce((a, [, v]) => a + Number(v), 0);
    };
    // u1: search 1 in every model; u4 and u5: 2/3 + 2/3 search under Shapley; u8: direct.
    expect(await sum('shapley', 'c-search')).toBeCloseTo(1 + 4 / 3, 9);
    expect(await sum('shapley', 'c-display')).toBeCloseTo(2 / 3, 9);
    expect(await sum('markov', 'c-search')).toBeCloseTo(1 + 10 / 8, 9);
    expect(await sum('markov', 'c-display')).toBeCloseTo(6 / 8, 9);
    expect(await sum('markov', 'none')).toBeCloseTo(1, 9);
  });
});
