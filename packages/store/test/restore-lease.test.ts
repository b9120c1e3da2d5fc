import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createRedis, StoreKeys } from '../src/index.js';
import { withRestoreLease } from '../src/ops/index.js';

describe('the restore lease (real Redis)', () => {
  const redis = createRedis(loadConfig().redis);
  const keys = new StoreKeys(`t-lease-${randomUUID().slice(0, 8)}`);
  const LEASE_MS = 300;
  afterAll(async () => {
    await redis.del(keys.storeRestoring());
    redis.disconnect();
  });

  it('is renewed while its work runs, refused to others meanwhile, and given back after', async () => {
    const attempts: boolean[] = [];
    const first = withRestoreLease(redis, keys, 'a', LEASE_MS, async () => {
      // Past three lease lengths: without the renewal it would have run out twice.
      for (let i = 0; i < 5; i++) {
        await sleep(200);
        attempts.push((await withRestoreLease(redis, keys, 'b', LEASE_MS, async () => 'b ran')).held);
      }
      return 'a ran';
    });
    expect(await first).toEqual({ held: true, value: 'a ran' });
    expect(attempts).toEqual([false, false, false, false, false]);
    expect(await redis.exists(keys.storeRestoring())).toBe(0);
    expect(await withRestoreLease(redis, keys, 'b', LEASE_MS, async () => 'b ran')).toEqual({ held: true, value: 'b ran' });
  });

  it('left by a holder that died (no renewal), it is free within its length', async () => {
    // What a process killed mid-restore leaves: the lease with the TTL of its last renewal.
    await redis.set(keys.storeRestoring(), 'dead', 'PX', LEASE_MS, 'NX');
    expect((await withRestoreLease(redis, keys, 'c', LEASE_MS, async () => 'c ran')).held).toBe(false);
    await sleep(LEASE_MS + 100);
    expect(await withRestoreLease(redis, keys, 'c', LEASE_MS, async () => 'c ran')).toEqual({ held: true, value: 'c ran' });
  });

  it('run out and taken by another while its work ran, it stays the new holder\'s', async () => {
    const result = await withRestoreLease(redis, keys, 'e', LEASE_MS, async () => {
      // What a holder that stalled past its lease finds: another process took the lease.
      await redis.set(keys.storeRestoring(), 'other', 'PX', 10_000);
      await sleep(LEASE_MS / 2);
      return 'e ran';
    });
    expect(result).toEqual({ held: true, value: 'e ran' });
    expect(await redis.get(keys.storeRestoring())).toBe('other');
    await redis.del(keys.storeRestoring());
  });

  it('is given back when its work fails', async () => {
    await expect(withRestoreLease(redis, keys, 'd', LEASE_MS, async () => Promise.reject(new Error('restore failed')))).rejects.toThrow('restore failed');
    expect(await redis.exists(keys.storeRestoring())).toBe(0);
  });
});
