import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { foldOutcomes, processBatch } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import { createRedis, StoreKeys, type RedisClient } from '@sigflow/store';
import { recomputeHours } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, expectedHashes, impression, rounded, testConfig, withBatch, writeArchive, endTestRun } from './helpers.js';

const FROM = T0 + HOUR;
const ad = { campaign: 'c1', ad: 'a1', channel: 'search' };

/**
 * Ten users with an impression 10 minutes before the recomputed hour and a click on it 5 minutes
 * into the hour (the click joins across the hour's start), and ten users with an impression
 * before the hour and another in it, no click.
 */
function traffic(): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  for (let u = 0; u < 10; u++) {
    events.push(impression({ id: `u${u}-i`, user: `u${u}`, ts: FROM - 10 * MINUTE + u * SECOND, ...ad }));
    events.push(click({ id: `u${u}-c`, user: `u${u}`, ts: FROM + 5 * MINUTE + u * SECOND, ...ad }));
    events.push(impression({ id: `v${u}-i0`, user: `v${u}`, ts: FROM - 10 * MINUTE + u * SECOND, ...ad }));
    events.push(impression({ id: `v${u}-i1`, user: `v${u}`, ts: FROM + 10 * MINUTE + u * SECOND, ...ad }));
  }
  return events;
}

describe('the context a recompute reads from before its hours', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;

  beforeAll(async () => {
    ({ config, dir } = testConfig('near-context'));
    config = withBatch(config, { writeViewParquet: false });
    redis = createRedis(config.redis);
    await writeArchive(config.archiver.dir, traffic().map((event, i) => ({ event, partition: 0, offset: String(i) })));
  });

  afterAll(() => endTestRun({ config, dir, redis }));

  it('joins a click in the hour to its impression before it', async () => {
    const result = await recomputeHours({ config, redis, from: FROM, to: FROM + HOUR, computedBy: 'test' });
    const [hour] = result.hours;
    // Every click joined its impression: 10 valid clicks (hand count), as core's processBatch over everything.
    const outcomes = processBatch(traffic(), { settings: config.rules }).outcomes.filter((o) => o.ts >= FROM && o.ts < FROM + HOUR);
    expect(outcomes.filter((o) => o.windowMetric?.clicks === 1 && o.status === 'valid')).toHaveLength(10);
    const actual = await actualHashes(redis, new StoreKeys(config.redis.keyPrefix), FROM, hour!.version);
    expect(rounded(actual)).toEqual(rounded(expectedHashes(foldOutcomes(outcomes))));
  });
});
