// The store's Lua scripts on a client with auto-pipelining (every service's default), sent in the
// same tick as other commands. They were ioredis custom commands defined on first use: a command
// defined after the tick's auto-pipeline was opened is missing on that pipeline, the call threw
// inside ioredis (`pipeline[functionName] is not a function`) and ioredis then crashed the process
// with an uncaught `results[i] is not iterable` (seen about once in 12 runs of the batch parts test,
// where two workers share one client).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createRedis, deleteKeysWithPrefix, StoreKeys } from '../src/index.js';
import { raiseArchiveWatermarks, readArchiveWatermarks, readBatchHourEntries, switchBatchHours } from '../src/batch/index.js';

describe("the store's scripts beside other commands of the same tick", () => {
  const prefix = `t-autopipe-${randomUUID().slice(0, 8)}`;
  const keys = new StoreKeys(prefix);
  const cleanup = createRedis(loadConfig().redis);
  afterAll(async () => {
    await deleteKeysWithPrefix(cleanup, prefix);
    cleanup.disconnect();
  });

  it('raise watermarks and switch batch hours on a fresh client whose auto-pipeline is already open', async () => {
    const redis = createRedis(loadConfig().redis);
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      // Each script's first use, queued behind a plain command of the same tick.
      const entry = { version: 'v1', computedAt: 1, asOf: 10, rows: 1, duplicates: 0, shapleyVersion: null, markovVersion: null, isbotVersion: null, computedBy: 'test' };
      const [members, , switched] = await Promise.all([
        redis.smembers(`${prefix}:none`),
        raiseArchiveWatermarks(redis, keys, 'events', new Map([[0, 5_000], [1, 7_000]])),
        switchBatchHours(redis, keys, 10, 3_600_000, [{ hourStart: 0, entry }]),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(members).toEqual([]);
      expect(switched).toEqual([{ hourStart: 0, previous: null, replaced: true }]);
      expect(await readArchiveWatermarks(redis, keys, 'events')).toEqual(new Map([[0, 5_000], [1, 7_000]]));
      expect((await readBatchHourEntries(redis, keys, [0])).get(0)).toMatchObject({ version: 'v1', asOf: 10 });
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      redis.disconnect();
    }
  });
});
