// The batch layer in truncated IP mode: events stored as the collector stores them (truncated
// address + keyed hash of the full one) are archived with their ip_key, and the recompute's IP
// flood rule counts by the full address: one address behind twelve clicks floods, twelve
// addresses of one /24 do not.
import { type RedisClient, createRedis, field } from '@sigflow/store';
import { raiseArchiveWatermarks, readBatchHourEntries } from '@sigflow/store/batch';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '@sigflow/events';
import type { ArchivedEvent } from '@sigflow/archive';
import { privatizeIp } from '@sigflow/privacy';
import { createBatchContext, recomputeHours } from '../src/index.js';
import { CHROME_UA, HOUR, T0, testConfig, writeArchive, endTestRun } from './helpers.js';

describe('IP flood over truncated addresses', () => {
  const { config, dir } = testConfig('iptrunc', { SIGFLOW_PRIVACY_IP_MODE: 'truncated', SIGFLOW_PRIVACY_SALT: 'batch-salt' });
  const redis: RedisClient = createRedis(config.redis);
  afterAll(() => endTestRun({ config, dir, redis }));

  it('floods the 11th and 12th click of one full address only, and the 11th of eleven', async () => {
    const events: ArchivedEvent[] = [];
    const offsets = [0, 0];
    const t0 = T0 + 10 * 60_000;
    for (let u = 0; u < 12; u++) {
      // `eleven`: one more click than the threshold (10) behind one address, on its own campaign.
      const groups = [['one', '10.9.9.9', 'c1'], ['many', `10.9.8.${u + 1}`, 'c1'], ...(u < 11 ? [['eleven', '10.9.7.7', 'c2']] : [])] as const;
      for (const [group, ip, campaign] of groups) {
        const user = `${group}-${u}`;
        const partition = u % 2;
        const at = { user_id: user, user_agent: CHROME_UA, campaign_id: campaign, ad_id: 'a1', channel: 'search', ...privatizeIp('truncated', 'batch-salt', ip) };
        const pair: ReceivedEvent[] = [
          { ...at, event_id: `${user}-i`, type: 'impression', ts: t0 + u * 1_000, received_at: t0 + u * 1_000 + 10 },
          { ...at, event_id: `${user}-c`, type: 'click', ts: t0 + u * 1_000 + 2_000, received_at: t0 + u * 1_000 + 2_010 },
        ];
        for (const event of pair) events.push({ event, partition, offset: String(offsets[partition]!++) });
      }
    }
    const ctx = createBatchContext(config, redis);
    await writeArchive(ctx.root, events);
    await raiseArchiveWatermarks(redis, ctx.keys, ctx.topic, new Map([[0, T0 + 3 * HOUR], [1, T0 + 3 * HOUR]]));
    await recomputeHours({ context: ctx, from: T0, to: T0 + HOUR });
    const version = (await readBatchHourEntries(redis, ctx.keys, [T0])).get(T0)?.version ?? '';
    const quality = await redis.hgetall(ctx.keys.batchQuality(T0, version));
    expect(quality[field('c1', 'invalid:flood')]).toBe('2');
    expect(quality[field('c2', 'invalid:flood')]).toBe('1');
  });
});
