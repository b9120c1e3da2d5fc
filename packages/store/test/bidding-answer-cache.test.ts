import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/lib/process.mjs';
import type { Redis } from 'ioredis';
import { loadConfig } from '@sigflow/config';
import { createRedis, deleteKeysWithPrefix, StoreKeys } from '../src/index.js';
import { BiddingAnswerCache, type CacheOutcome } from '../src/bidding/index.js';

/** Polls until `check` holds (an invalidation travels on a connection of its own). */
async function eventually(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('BiddingAnswerCache: answers kept in memory, invalidated by Redis', () => {
  const keys = new StoreKeys(`t-bidcache-${randomUUID().slice(0, 8)}`);
  const config = loadConfig().redis;
  let redis: Redis;
  let writer: Redis;
  let cache: BiddingAnswerCache;
  const outcomes: CacheOutcome[] = [];
  /** Waits until memory holds `json` for a campaign (a read that the write's own invalidation overtakes is not kept). */
  const kept = (campaignId: string, json: string) => eventually(async () => (await cache.read(campaignId)) === json && cache.peek(campaignId) === json);

  beforeAll(async () => {
    redis = createRedis(config) as Redis;
    writer = createRedis(config) as Redis;
    // A minute's max age: within these tests only an invalidation can refresh an answer.
    cache = new BiddingAnswerCache(redis, keys, { maxAgeMs: 60_000, onRead: (o) => outcomes.push(o) });
    // Live once the invalidation connection has subscribed: a read of a stored answer is then a miss, not a bypass.
    await writer.set(keys.biddingState('warm'), '{}');
    await eventually(async () => {
      outcomes.length = 0;
      await cache.read('warm');
      return outcomes[0] !== 'bypass';
    });
  });
  afterAll(async () => {
    cache.close();
    await deleteKeysWithPrefix(writer, keys.prefix);
    redis.disconnect();
    writer.disconnect();
  });

  it('reads an answer from Redis once, then from memory while it is unchanged', async () => {
    await writer.set(keys.biddingState('c1'), '{"v":1}');
    outcomes.length = 0;
    expect(await cache.read('c1')).toBe('{"v":1}');
    expect(outcomes).toEqual(['miss']);
    await kept('c1', '{"v":1}');
    outcomes.length = 0;
    expect(await cache.read('c1')).toBe('{"v":1}');
    expect(cache.peek('c1')).toBe('{"v":1}');
    expect(outcomes).toEqual(['hit', 'hit']);
  });

  it('serves a rewritten answer as soon as Redis says the old one changed', async () => {
    await writer.set(keys.biddingState('c2'), '{"v":1}');
    expect(await cache.read('c2')).toBe('{"v":1}');
    await writer.set(keys.biddingState('c2'), '{"v":2}');
    await eventually(async () => (await cache.read('c2')) === '{"v":2}');
  });


  it('forgets a deleted answer, and keeps no answer that is missing', async () => {
    await writer.set(keys.biddingState('c3'), '{"v":1}');
    expect(await cache.read('c3')).toBe('{"v":1}');
    await writer.del(keys.biddingState('c3'));
    await eventually(async () => (await cache.read('c3')) === null);
    outcomes.length = 0;
    expect(await cache.read('c3')).toBeNull();
    expect(outcomes).toEqual(['miss']);
  });

  it('never serves an answer older than maxAgeMs, even without an invalidation', async () => {
    const aged = new BiddingAnswerCache(redis, keys, { maxAgeMs: 50 });
    try {
      await writer.set(keys.biddingState('c4'), '{"v":1}');
      await eventually(async () => (await aged.read('c4')) !== null && aged.peek('c4') !== undefined);
      await sleep(80);
      expect(aged.peek('c4')).toBeUndefined();
    } finally {
      aged.close();
    }
  });

  it('stands aside (every read from Redis) while its invalidation connection is down, and resumes after', async () => {
    await writer.set(keys.biddingState('c5'), '{"v":1}');
    await kept('c5', '{"v":1}');
    // Kill every connection subscribed to invalidations (this cache's, among them).
    const clients = (await writer.client('LIST')) as string;
    for (const line of clients.split('\n').filter((l) => l.includes('cmd=subscribe'))) {
      await writer.client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!);
    }
    // Once it notices, it serves nothing from memory: a write while it is down is not announced to it.
    await eventually(async () => cache.peek('c5') === undefined);
    await writer.set(keys.biddingState('c5'), '{"v":2}');
    expect(await cache.read('c5')).toBe('{"v":2}');
    await eventually(async () => {
      await cache.read('c5');
      return cache.peek('c5') === '{"v":2}';
    });
    await writer.set(keys.biddingState('c5'), '{"v":3}');
    await eventually(async () => (await cache.read('c5')) === '{"v":3}');
  });
});

describe('BiddingAnswerCache and TTLs', () => {
  // A Redis of its own with active expiry off: an expired key stays until something touches it,
  // as it may for a while on a busy Redis (its expire cycle samples keys), and no invalidation comes.
  let server: ChildProcess;
  let redis: Redis;
  const keys = new StoreKeys('t-bidcache-ttl');

  beforeAll(async () => {
    const port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'], { stdio: 'ignore' });
    redis = createRedis(loadConfig({ ...process.env, SIGFLOW_REDIS_URL: `redis://127.0.0.1:${port}` }).redis) as Redis;
    redis.on('error', () => undefined); // refused until the server listens
    await eventually(async () => (await redis.ping().catch(() => '')) === 'PONG', 20_000);
    await redis.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  });
  afterAll(() => {
    redis?.disconnect();
    server?.kill('SIGKILL');
  });

  it('serves no answer past its TTL, however late Redis deletes the key', async () => {
    const cache = new BiddingAnswerCache(redis, keys, { maxAgeMs: 60_000 });
    try {
      await redis.set(keys.biddingState('live'), '{}');
      await eventually(async () => (await cache.read('live')) !== null && cache.peek('live') !== undefined);
      await redis.set(keys.biddingState('c1'), '{"v":1}', 'PX', 1_000);
      // Kept once the write's own invalidation has passed (a read it overtakes is not kept).
      await eventually(async () => (await cache.read('c1')) === '{"v":1}' && cache.peek('c1') === '{"v":1}');
      await sleep(1_100);
      expect(cache.peek('c1')).toBeUndefined();
      expect(await cache.read('c1')).toBeNull();
    } finally {
      cache.close();
    }
  });
});
