import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { encodeSignal, type UserSignal } from '@sigflow/core';
import { createRedis, StoreKeys, type RedisClient } from '../src/index.js';
import { correctUserSignals, readSignalReviews, signalReviewLine } from '../src/speed-state/index.js';

const T = Date.UTC(2026, 10, 3, 10);

/** A signal as the speed layer appends it. */
function speedSignal(event_id: string, over: Partial<UserSignal> = {}): UserSignal {
  return { invalid: false, event_id, type: 'click', ts: T, reason: null, late: false, source: 'speed', campaign_id: 'c1', ad_id: 'a1', channel: 'search', ...over };
}

describe('signal corrections (real Redis)', () => {
  const prefix = `t-store-sig-${randomUUID().slice(0, 8)}`;
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

  it("rewrites each listed event's oldest entry with the batch verdict, drops later copies in place, leaves the rest", async () => {
    const key = keys.signals(1, 'u');
    const odd = 'q"uo,"type":te\\';
    // Oldest first as pushed; LPUSH leaves the newest at the head, as the speed layer does.
    const stored = [
      encodeSignal(speedSignal('flooded')), // valid for speed, a flood for batch
      encodeSignal(speedSignal('orphaned', { invalid: true, reason: 'orphan' })), // invalid for speed, valid for batch
      encodeSignal(speedSignal('untouched', { type: 'impression' })),
      encodeSignal(speedSignal(odd, { type: 'page_view', campaign_id: undefined, ad_id: undefined, channel: undefined, page_id: 'p' })),
      encodeSignal(speedSignal('late-bot', { type: 'conversion', invalid: true, reason: 'bot', late: true, campaign_id: undefined, ad_id: undefined, channel: undefined, value: 5 })),
      // An entry of the earlier layout (no source field), and a copy of `flooded` beyond the horizon.
      JSON.stringify({ invalid: true, event_id: 'old-layout', type: 'click', ts: T, reason: 'too_fast', late: false, campaign_id: 'c1' }),
      encodeSignal(speedSignal('flooded', { late: true, unchecked: true })),
      encodeSignal(speedSignal('very-late', { late: true, unchecked: true })),
    ];
    await redis.lpush(key, ...stored);
    await redis.pexpire(key, 600_000);
    const changes = await correctUserSignals(redis, keys, [
      {
        partition: 1,
        userId: 'u',
        verdicts: [
          { eventId: 'flooded', reason: 'flood' },
          { eventId: 'orphaned', reason: null },
          { eventId: odd, reason: null },
          { eventId: 'late-bot', reason: 'bot' },
          { eventId: 'old-layout', reason: null },
          { eventId: 'very-late', reason: 'orphan' },
          { eventId: 'not-in-the-list', reason: 'bot' },
        ],
      },
    ]);
    // Expected entries: written with core's encoder from the signals above with the batch verdict.
    const batch = (s: UserSignal, invalid: boolean, reason: UserSignal['reason']) => encodeSignal({ ...s, invalid, reason, late: false, source: 'batch' });
    const expected = [
      batch(speedSignal('flooded'), true, 'flood'),
      batch(speedSignal('orphaned'), false, null),
      encodeSignal(speedSignal('untouched', { type: 'impression' })),
      batch(speedSignal(odd, { type: 'page_view', campaign_id: undefined, ad_id: undefined, channel: undefined, page_id: 'p' }), false, null),
      batch(speedSignal('late-bot', { type: 'conversion', campaign_id: undefined, ad_id: undefined, channel: undefined, value: 5 }), true, 'bot'),
      '{"invalid":false,"event_id":"old-layout","type":"click","ts":' + T + ',"reason":null,"late":false,"source":"batch","campaign_id":"c1"}',
      '{"dropped":"duplicate","event_id":"flooded"}',
      batch(speedSignal('very-late'), true, 'orphan'),
    ].reverse();
    expect(await redis.lrange(key, 0, -1)).toEqual(expected);
    expect(await redis.pttl(key)).toBeGreaterThan(590_000);
    expect(changes).toEqual([
      [
        // Oldest first, as the script walks the log.
        { eventId: 'flooded', what: 'verdict' },
        { eventId: 'orphaned', what: 'verdict' },
        { eventId: 'late-bot', what: 'late' },
        { eventId: 'old-layout', what: 'verdict' },
        { eventId: 'flooded', what: 'duplicate' },
        { eventId: 'very-late', what: 'verdict' },
        { eventId: 'very-late', what: 'late' },
      ],
    ]);
    // Run again: nothing left to change, nothing changed.
    expect(await correctUserSignals(redis, keys, [{ partition: 1, userId: 'u', verdicts: [{ eventId: 'flooded', reason: 'flood' }, { eventId: 'late-bot', reason: 'bot' }] }])).toEqual([[]]);
    expect(await redis.lrange(key, 0, -1)).toEqual(expected);
  });

  it('a user without a log is left without one', async () => {
    expect(await correctUserSignals(redis, keys, [{ partition: 0, userId: 'nobody', verdicts: [{ eventId: 'x', reason: 'bot' }] }])).toEqual([[]]);
    expect(await redis.exists(keys.signals(0, 'nobody'))).toBe(0);
  });

  it("reads an hour's reviews over every partition, each id once", async () => {
    await redis.append(keys.signalReviews(0, T), signalReviewLine('a') + signalReviewLine('line\nbreak'));
    await redis.append(keys.signalReviews(3, T), signalReviewLine('a') + signalReviewLine('b'));
    await redis.append(keys.signalReviews(3, T + 3_600_000), signalReviewLine('next hour'));
    expect((await readSignalReviews(redis, keys, 4, T)).sort()).toEqual(['a', 'b', 'line\nbreak']);
  });
});
