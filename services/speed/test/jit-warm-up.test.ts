import { loadConfig } from '@sigflow/config';
import { createRedis, StoreKeys } from '@sigflow/store';
import { afterAll, describe, expect, it } from 'vitest';
import { warmUpRoundPath } from '../src/jit-warm-up.js';

describe('the JIT warm-up', () => {
  const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: `t-warm-up-${process.pid}` });
  const redis = createRedis(config.redis);
  afterAll(() => redis.disconnect());

  it('runs every synthetic event through the record reader, the contract and the rules, none refused (else it warms a path real events do not take)', async () => {
    const warmUp = await warmUpRoundPath({ config, keys: new StoreKeys(config.redis.keyPrefix), redis, shapley: null, segments: undefined });
    expect(warmUp.refused).toBe(0);
    // 12 rounds of 1,000 events, each a different event id: none a duplicate, all processed.
    expect(warmUp.events).toBe(12_000);
    // Every round's commit packed as fencedCommit packs it (a command it cannot pack throws) and received by Redis whole.
    expect(warmUp.packedBytes).toBeGreaterThan(12_000 * 50);
  });

  it('writes nothing to Redis', async () => {
    await warmUpRoundPath({ config, keys: new StoreKeys(config.redis.keyPrefix), redis, shapley: null, segments: undefined });
    expect(await redis.keys(`${config.redis.keyPrefix}*`)).toEqual([]);
  });
});
