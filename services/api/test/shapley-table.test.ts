import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

const table = {
  version: 's2026010510-abc',
  values: { '': 0, search: 0.1, social: 0.05, email: 0.2, 'email+search': 0.3, 'search+social': 0.12, 'email+search+social': 0.4 },
  from: 1_000,
  to: 2_000,
  users: 50,
  convertedUsers: 9,
  trainedAt: 3_000,
};

describe('the published Shapley table', () => {
  let api: TestApi;
  const get = (url: string, role: Parameters<typeof withKey>[0] = 'analyst') => api.app.inject({ url, headers: withKey(role) });

  beforeAll(async () => {
    api = await startTestApi(testConfig());
  });
  afterAll(async () => {
    await api?.close();
  });

  it('says there is none before a training', async () => {
    const res = await get('/v1/attribution/shapley');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ version: null, from: null, to: null, trainedAt: null, users: null, convertedUsers: null, channels: [], coalitionCount: 0, coalitions: [] });
  });

  it('answers version, training period and the largest coalitions first', async () => {
    await api.redis.set(api.keys.shapleyTable(), JSON.stringify(table));
    const res = await get('/v1/attribution/shapley?largest=3');
    expect(res.json()).toEqual({
      version: table.version,
      from: 1_000,
      to: 2_000,
      trainedAt: 3_000,
      users: 50,
      convertedUsers: 9,
      channels: ['email', 'search', 'social'],
      coalitionCount: 6,
      coalitions: [
        { channels: ['email', 'search', 'social'], value: 0.4 },
        { channels: ['email', 'search'], value: 0.3 },
        { channels: ['search', 'social'], value: 0.12 },
      ],
    });
  });

  it('refuses a reader (403), no key (401), bad largest (400)', async () => {
    expect((await get('/v1/attribution/shapley', 'reader')).statusCode).toBe(403);
    expect((await get('/v1/attribution/shapley', null)).statusCode).toBe(401);
    expect((await get('/v1/attribution/shapley?largest=0')).statusCode).toBe(400);
    expect((await get('/v1/attribution/shapley?model=x')).statusCode).toBe(400);
  });
});
