import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { createRedis, StoreKeys, type RedisClient } from '../src/index.js';
import { fencedCommit, fencedOutboxTrim, OffsetFenceError } from '../src/speed-state/index.js';

describe('fencedCommit (real Redis)', () => {
  const prefix = `t-store-${randomUUID().slice(0, 8)}`;
  const keys = new StoreKeys(prefix);
  let redis: RedisClient;
  const fenceOf = (partition: number, epoch = '1') => ({ offsetKey: keys.speedOffset(partition), epochKey: keys.speedEpoch(partition), epoch });

  beforeAll(async () => {
    redis = createRedis(loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: prefix }).redis);
    for (const p of [0, 1, 2, 3]) await redis.set(keys.speedEpoch(p), '1');
  });
  afterAll(async () => {
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    redis.disconnect();
  });

  it('applies every command and moves the offset when the stored offset and epoch are the expected ones', async () => {
    const many = Array.from({ length: 3_000 }, (_, i) => `s${i}`);
    await fencedCommit(redis, fenceOf(0), null, '10', [
      ['HINCRBY', keys.speedCounters(0), 'events', 3],
      ['LPUSH', keys.signals(0, 'u'), 'a', 'b'],
      ['HINCRBYFLOAT', keys.speedAttribution(0, 'linear', 0), 'f', 0.1],
      ['APPEND', keys.seenEvents(0, 0), Buffer.from([0, 1, 0xff, 0x80])],
      // No argument after the key, three, and thousands: every argument count the script unpacks.
      ['SET', keys.userSnapshot(0, 'u'), 'snap', 'PX', 60_000],
      ['PERSIST', keys.userSnapshot(0, 'u')],
      ['RPUSH', keys.signals(0, 'many'), ...many],
      ['HINCRBY', keys.speedCounters(0), 'after', 1],
    ]);
    expect(await redis.get(keys.speedOffset(0))).toBe('10');
    expect(await redis.get(keys.userSnapshot(0, 'u'))).toBe('snap');
    expect(await redis.pttl(keys.userSnapshot(0, 'u'))).toBe(-1);
    expect(await redis.lrange(keys.signals(0, 'many'), 0, -1)).toEqual(many);
    expect(await redis.hget(keys.speedCounters(0), 'after')).toBe('1');
    expect(await redis.hget(keys.speedCounters(0), 'events')).toBe('3');
    expect(await redis.lrange(keys.signals(0, 'u'), 0, -1)).toEqual(['b', 'a']);
    // A float goes as its shortest decimal, as a client would send it; bytes arrive unchanged.
    expect(await redis.hget(keys.speedAttribution(0, 'linear', 0), 'f')).toBe('0.1');
    expect(await redis.getBuffer(keys.seenEvents(0, 0))).toEqual(Buffer.from([0, 1, 0xff, 0x80]));
    await fencedCommit(redis, fenceOf(0), '10', '25', [['HINCRBY', keys.speedCounters(0), 'events', 2]]);
    expect(await redis.get(keys.speedOffset(0))).toBe('25');
    expect(await redis.hget(keys.speedCounters(0), 'events')).toBe('5');
  });

  it('carries text of every MessagePack length form unchanged, commit after commit (the packing buffer is reused)', async () => {
    // Lengths around each header form's bounds, in characters of 1, 2, 3 and 4 UTF-8 bytes.
    const lengths = [0, 1, 10, 11, 31, 32, 85, 86, 255, 256, 21_845, 21_846, 65_535, 65_536, 70_000];
    // And ASCII ending in one wider character: a short string is copied unit by unit until then.
    const texts = lengths.flatMap((n) => [...['a', 'é', '€', '😀'].map((ch) => ch.repeat(n)), `${'a'.repeat(Math.max(0, n - 1))}€`]);
    const list = keys.signals(5, 'lengths');
    await redis.set(keys.speedEpoch(5), '1');
    let offset: string | null = null;
    for (const [i, text] of texts.entries()) {
      const next = String(i + 1);
      await fencedCommit(redis, fenceOf(5), offset, next, [['RPUSH', list, text], ['HINCRBY', keys.speedCounters(5), 'n', -70_000 + i]]);
      offset = next;
    }
    expect(await redis.lrange(list, 0, -1)).toEqual(texts);
    const sum = texts.reduce((acc, _, i) => acc + (-70_000 + i), 0);
    expect(await redis.hget(keys.speedCounters(5), 'n')).toBe(String(sum));
  });

  it('writes nothing when another writer moved the offset (a zombie after a rebalance)', async () => {
    await fencedCommit(redis, fenceOf(1), null, '7', []);
    const zombie = fencedCommit(redis, fenceOf(1), null, '9', [['HINCRBY', keys.speedCounters(1), 'zombie', 1]]);
    await expect(zombie).rejects.toBeInstanceOf(OffsetFenceError);
    await expect(zombie).rejects.toHaveProperty('ownerChanged', false);
    await expect(fencedCommit(redis, fenceOf(1), '5', '9', [['HINCRBY', keys.speedCounters(1), 'zombie', 1]])).rejects.toThrow(/found offset:7, expected offset 5/);
    expect(await redis.hget(keys.speedCounters(1), 'zombie')).toBeNull();
    expect(await redis.get(keys.speedOffset(1))).toBe('7');
  });

  it('writes nothing when a new owner took the epoch, even at the same offset', async () => {
    await fencedCommit(redis, fenceOf(2), null, '3', []);
    await redis.incr(keys.speedEpoch(2)); // the new owner's assignment
    const zombie = fencedCommit(redis, fenceOf(2, '1'), '3', '4', [['HINCRBY', keys.speedCounters(2), 'zombie', 1]]);
    await expect(zombie).rejects.toThrow(/found epoch:2/);
    await expect(zombie).rejects.toHaveProperty('ownerChanged', true);
    expect(await redis.hget(keys.speedCounters(2), 'zombie')).toBeNull();
    await fencedCommit(redis, fenceOf(2, '2'), '3', '4', [['HINCRBY', keys.speedCounters(2), 'owner', 1]]);
    expect(await redis.hget(keys.speedCounters(2), 'owner')).toBe('1');
  });

  it('does not move the offset when a command fails', async () => {
    await redis.set(keys.userSnapshot(3, 'x'), 'not a hash');
    // HINCRBY on a string fails inside the script, which stops before it sets the offset.
    // (Redis keeps a script's writes made before an error: the layout gives every key one type,
    // so only a bug can make a command fail.)
    await expect(fencedCommit(redis, fenceOf(3), null, '3', [['HINCRBY', keys.userSnapshot(3, 'x'), 'f', 1]])).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.get(keys.speedOffset(3))).toBeNull();
  });
});

describe('fencedOutboxTrim (real Redis)', () => {
  const prefix = `t-outbox-${randomUUID().slice(0, 8)}`;
  const keys = new StoreKeys(prefix);
  let redis: RedisClient;
  beforeAll(() => {
    redis = createRedis(loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: prefix }).redis);
  });
  afterAll(async () => {
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    redis.disconnect();
  });

  it('trims only while the drainer holds the epoch', async () => {
    await redis.set(keys.speedEpoch(0), '4');
    await redis.rpush(keys.speedOutbox(0), 'm1', 'm2', 'm3');
    expect(await fencedOutboxTrim(redis, keys.speedEpoch(0), keys.speedOutbox(0), '3', 2)).toBe(false);
    expect(await redis.lrange(keys.speedOutbox(0), 0, -1)).toEqual(['m1', 'm2', 'm3']);
    expect(await fencedOutboxTrim(redis, keys.speedEpoch(0), keys.speedOutbox(0), '4', 2)).toBe(true);
    expect(await redis.lrange(keys.speedOutbox(0), 0, -1)).toEqual(['m3']);
  });
});
