import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createRedis, fencedCommit, OffsetFenceError, StoreKeys } from '../src/index.js';

describe('fencedCommit (real Redis)', () => {
  const prefix = `t-store-${randomUUID().slice(0, 8)}`;
  const keys = new StoreKeys(prefix);
  let redis: Redis;

  beforeAll(() => {
    redis = createRedis(loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: prefix }).redis);
  });
  afterAll(async () => {
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    redis.disconnect();
  });

  it('applies every command and moves the offset when the stored offset is the expected one', async () => {
    const offset = keys.speedOffset('events', 0);
    await fencedCommit(redis, offset, null, '10', [
      ['HINCRBY', keys.speedCounters(), 'events', 3],
      ['LPUSH', keys.signals('u'), 'a', 'b'],
    ]);
    expect(await redis.get(offset)).toBe('10');
    expect(await redis.hget(keys.speedCounters(), 'events')).toBe('3');
    await fencedCommit(redis, offset, '10', '25', [['HINCRBY', keys.speedCounters(), 'events', 2]]);
    expect(await redis.get(offset)).toBe('25');
    expect(await redis.hget(keys.speedCounters(), 'events')).toBe('5');
  });

  it('writes nothing when another writer moved the offset (a zombie after a rebalance)', async () => {
    const offset = keys.speedOffset('events', 1);
    await fencedCommit(redis, offset, null, '7', []);
    const zombie = fencedCommit(redis, offset, null, '9', [['HINCRBY', keys.speedCounters(), 'zombie', 1]]);
    await expect(zombie).rejects.toBeInstanceOf(OffsetFenceError);
    await expect(fencedCommit(redis, offset, '5', '9', [['HINCRBY', keys.speedCounters(), 'zombie', 1]])).rejects.toThrow(/is 7, expected 5/);
    expect(await redis.hget(keys.speedCounters(), 'zombie')).toBeNull();
    expect(await redis.get(offset)).toBe('7');
  });

  it('does not move the offset when a command fails', async () => {
    const offset = keys.speedOffset('events', 2);
    await redis.set(keys.userState('x'), 'not a hash');
    // HINCRBY on a string fails inside the script, which stops before it sets the offset.
    // (Redis keeps a script's writes made before an error: the layout gives every key one type,
    // so only a bug can make a command fail.)
    await expect(fencedCommit(redis, offset, null, '3', [['HINCRBY', keys.userState('x'), 'f', 1]])).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.get(offset)).toBeNull();
  });
});
