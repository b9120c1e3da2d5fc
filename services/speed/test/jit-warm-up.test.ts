import { loadConfig } from '@sigflow/config';
import { StoreKeys } from '@sigflow/store';
import { describe, expect, it } from 'vitest';
import { warmUpRoundPath } from '../src/jit-warm-up.js';

describe('the JIT warm-up', () => {
  it('runs every synthetic event through the contract and the rules, none refused (else it warms a path real events do not take)', () => {
    const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: 'warm-up-test' });
    const warmUp = warmUpRoundPath(config, new StoreKeys(config.redis.keyPrefix), null, undefined);
    expect(warmUp.refused).toBe(0);
    // 12 rounds of 2,000 events, each a different event id: none a duplicate, all processed.
    expect(warmUp.events).toBe(24_000);
    // Every round's commit packed as fencedCommit packs it (a command it cannot pack throws).
    expect(warmUp.packedBytes).toBeGreaterThan(24_000 * 50);
  });
});
