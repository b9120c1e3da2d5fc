import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createRedis, redisAnswers } from '../src/index.js';

describe('redisAnswers (readiness probes)', () => {
  it('is true for a Redis that answers', async () => {
    const redis = createRedis(loadConfig().redis);
    try {
      expect(await redisAnswers(redis)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('is false, within the timeout, for a Redis that accepts the connection and never answers (frozen)', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const redis = createRedis(loadConfig({ SIGFLOW_REDIS_URL: `redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}` }).redis);
    redis.on('error', () => undefined);
    try {
      const started = Date.now();
      expect(await redisAnswers(redis, 300)).toBe(false);
      // It gave up (300 ms) instead of waiting forever; the margin absorbs a loaded machine.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      redis.disconnect();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
