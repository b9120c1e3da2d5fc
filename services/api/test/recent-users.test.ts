import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

describe('recent users', () => {
  let api: TestApi;
  const get = (url: string, role: Parameters<typeof withKey>[0] = 'reader') => api.app.inject({ url, headers: withKey(role) });

  beforeAll(async () => {
    api = await startTestApi(testConfig());
    // As the speed layer lists them: per partition, scored by the commit's clock.
    await api.redis.zadd(api.keys.recentUsers(0), 1_000, 'ann', 3_000, 'bob');
    await api.redis.zadd(api.keys.recentUsers(3), 2_000, 'cat', 3_000, 'abe');
  });
  afterAll(async () => {
    await api?.close();
  });

  it('merges the partitions newest first (ties by id), at most limit', async () => {
    const res = await get('/v1/users/recent');
    expect(res.statusCode).toBe(200);
    expect(res.json().users).toEqual([
      { userId: 'abe', seenAt: 3_000 },
      { userId: 'bob', seenAt: 3_000 },
      { userId: 'cat', seenAt: 2_000 },
      { userId: 'ann', seenAt: 1_000 },
    ]);
    expect((await get('/v1/users/recent?limit=2')).json().users.map((u: { userId: string }) => u.userId)).toEqual(['abe', 'bob']);
  });

  it('needs a key (401); refuses bad limits and unknown parameters (400)', async () => {
    expect((await get('/v1/users/recent', null)).statusCode).toBe(401);
    expect((await get('/v1/users/recent?limit=0')).statusCode).toBe(400);
    expect((await get('/v1/users/recent?limit=201')).statusCode).toBe(400);
    expect((await get('/v1/users/recent?limit=x')).statusCode).toBe(400);
    expect((await get('/v1/users/recent?user=1')).statusCode).toBe(400);
  });
});
