import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { foldOutcomes, processBatch, type EventOutcome } from '@sigflow/core';
import { listRangeFiles } from '@sigflow/archive';
import type { ReceivedEvent } from '@sigflow/events';
import { createRedis, StoreKeys, type RedisClient } from '@sigflow/store';
import { markDirtyCommand, readBatchHourEntries } from '@sigflow/store/batch';
import { compactHour, createBatchContext, DuckDBSession, recomputeDirtyHours, recomputeHours, type BatchContext } from '../src/index.js';
import { eraseFromArchive } from '../src/archive-erasure.js';
import { landingClockMarginMs } from '../src/late-dependents.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, conversion, expectedHashes, impression, rounded, testConfig, writeArchive, endTestRun } from './helpers.js';

const H = (n: number) => T0 + n * HOUR;
const c1 = { campaign: 'c1', ad: 'a1', channel: 'search' };
const c2 = { campaign: 'c2', ad: 'a2', channel: 'display' };
const c3 = { campaign: 'c3', ad: 'a3', channel: 'social' };
const sharedIp = '203.0.113.7';

/**
 * On time: u1 saw c1 in hour 0 and converts in hour 3; u2 saw c1 in hour 0 and converts in hour
 * 5; u3 clicks in hour 2 with no impression before it (an orphan); w saw c1 and c3 and clicked
 * c3 (from the shared IP) 30 s into hour 2, and converts in hour 4; u4 fills hour 1.
 */
function onTime(): ReceivedEvent[] {
  return [
    impression({ id: 'u1-i', user: 'u1', ts: H(0) + 10 * MINUTE, ...c1 }),
    impression({ id: 'u2-i', user: 'u2', ts: H(0) + 20 * MINUTE, ...c1 }),
    impression({ id: 'w-i1', user: 'w', ts: H(0) + 30 * MINUTE, ...c1 }),
    impression({ id: 'u4-i', user: 'u4', ts: H(1) + 5 * MINUTE, ...c1 }),
    impression({ id: 'w-i3', user: 'w', ts: H(2) - 10 * MINUTE, ...c3 }),
    click({ id: 'w-c3', user: 'w', ts: H(2) + 30 * SECOND, ip: sharedIp, ...c3 }),
    click({ id: 'u3-c', user: 'u3', ts: H(2) + 5 * MINUTE, ...c1 }),
    conversion({ id: 'u1-cv', user: 'u1', ts: H(3) + 10 * MINUTE, value: 10 }),
    conversion({ id: 'w-cv', user: 'w', ts: H(4) + 10 * MINUTE, value: 7 }),
    conversion({ id: 'u2-cv', user: 'u2', ts: H(5) + 10 * MINUTE, value: 5 }),
  ];
}

/**
 * Late, into hour 1, after hours 0-5 were computed: u1 saw c2 (its conversion's last touch
 * becomes c2); u3 saw the ad it clicks 15 min later (the click in hour 2 becomes valid); ten
 * other users (of other partitions) clicked from w's IP in the minute before w's click (which
 * becomes the 11th: a flood, so w's path in hour 4 loses it).
 */
function late(): ReceivedEvent[] {
  const events = [
    impression({ id: 'u1-i2', user: 'u1', ts: H(1) + 30 * MINUTE, ...c2 }),
    impression({ id: 'u3-i', user: 'u3', ts: H(1) + 50 * MINUTE, ...c1 }),
  ];
  for (let k = 0; k < 10; k++) events.push(click({ id: `v${k}-c`, user: `v${k}`, ts: H(2) - 20 * SECOND + k * SECOND, ip: sharedIp, ...c1 }));
  return events;
}

describe('a late file makes the later hours it changes dirty', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let ctx: BatchContext;
  let duckdb: DuckDBSession;

  beforeAll(async () => {
    ({ config, dir } = testConfig('late-dependents', { SIGFLOW_BATCH_VIEW_PARQUET: 'false', SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '0' }));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    ctx = createBatchContext(config, redis);
    duckdb = await DuckDBSession.open({ threads: 1 });
  });

  afterAll(() => endTestRun({ config, dir, redis, duckdb }));

  /** Core's outcomes of every event, of one hour (the expected views: the same rules over everything). */
  const outcomesOfHour = (events: ReceivedEvent[], hour: number): EventOutcome[] =>
    processBatch(events, { settings: config.rules }).outcomes.filter((o) => o.ts >= hour && o.ts < hour + HOUR);

  it('recomputes the next hour, and the hours of the touched users conversions, in the same job', async () => {
    await writeArchive(config.archiver.dir, onTime().map((event, i) => ({ event, partition: 0, offset: String(i) })));
    // The on-time files landed well before the hours are computed (within the clock margin they
    // would count as late too): an hour ago.
    const landed = new Date(Date.now() - landingClockMarginMs - HOUR);
    for (const file of await listRangeFiles(config.archiver.dir, H(0), H(6))) fs.utimesSync(file, landed, landed);
    await recomputeHours({ context: ctx, from: H(0), to: H(6), duckdb });
    const before = await readBatchHourEntries(redis, keys, [0, 1, 2, 3, 4, 5].map(H));

    // The ten other users' clicks land in other partitions than w's (the IP flood counts every partition).
    const partitionOf = (user: string) => (user.startsWith('v') ? 1 + (Number(user.slice(1)) % 3) : 0);
    await writeArchive(config.archiver.dir, late().map((event, i) => ({ event, partition: partitionOf(event.user_id), offset: String(100 + i) })));
    const mark = markDirtyCommand(keys, [H(1)], Date.now());
    await redis.call(...(mark as [string, ...(string | number)[]]));
    const result = await recomputeDirtyHours({ context: ctx, duckdb });

    // Hour 1 (the late file), 2 (u3's click and w's click within the rule windows), 3 (u1's
    // conversion), 4 (w's conversion, by the IP flood); not 0 (before) nor 5 (u2 is untouched).
    expect(result.hours.map((h) => h.hourStart)).toEqual([1, 2, 3, 4].map(H));
    expect(result.staleHoursMarked).toEqual([2, 3, 4].map(H));
    expect(await redis.zcard(keys.dirtyHours())).toBe(0);
    const after = await readBatchHourEntries(redis, keys, [0, 5].map(H));
    expect([...after.values()].map((e) => e.version)).toEqual([before.get(H(0))!.version, before.get(H(5))!.version]);

    // The batch layer's answer is the rules over the events in event-time order.
    const all = [...onTime(), ...late()].sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : 1));
    // Hand-checked against the definitions: u1's last touch is now c2, u3's click is valid, w's click is a flood.
    const u1 = outcomesOfHour(all, H(3)).find((o) => o.event_id === 'u1-cv');
    expect(u1?.attribution?.credits.last_touch?.find((c) => c.fraction === 1)?.campaign_id).toBe('c2');
    const hour2 = outcomesOfHour(all, H(2));
    expect(hour2.find((o) => o.event_id === 'u3-c')?.status).toBe('valid');
    expect(hour2.find((o) => o.event_id === 'w-c3')?.reason).toBe('flood');
    for (const h of [2, 3, 4].map(H)) {
      const version = result.hours.find((x) => x.hourStart === h)!.version;
      const actual = await actualHashes(redis, keys, h, version);
      expect(rounded(actual), new Date(h).toISOString()).toEqual(rounded(expectedHashes(foldOutcomes(outcomesOfHour(all, h)))));
    }
  });

  it('rewrites of landed content are not late: a person erased and an hour compacted keep their files landing time', async () => {
    // Erasing u2 rewrites the files of hours 0 and 5; hour 0's also holds u1's and w's
    // impressions, whose conversions (hours 3 and 4) a late file would make stale.
    const hour0 = await listRangeFiles(config.archiver.dir, H(0), H(1));
    const landedBefore = fs.statSync(hour0[0]!).mtimeMs;
    const erased = await eraseFromArchive(ctx, duckdb, 'u2', () => undefined);
    expect(erased.hours).toEqual([0, 5].map(H));
    expect(Math.abs(fs.statSync(hour0[0]!).mtimeMs - landedBefore)).toBeLessThan(1);
    for (const h of erased.hours) expect((await recomputeHours({ context: ctx, from: h, to: h + HOUR, duckdb })).staleHoursMarked).toEqual([]);
    expect(await redis.zcard(keys.dirtyHours())).toBe(0);

    // Hour 1 holds partition 0's on-time file and late one: merged, it landed when the late one did.
    const partition0 = (files: string[]) => files.filter((f) => path.basename(f).startsWith('p0-'));
    const hour1 = partition0(await listRangeFiles(config.archiver.dir, H(1), H(2)));
    expect(hour1).toHaveLength(2);
    const newest = Math.max(...hour1.map((f) => fs.statSync(f).mtimeMs));
    await compactHour({ context: ctx, hour: H(1), force: true, duckdb });
    const merged = partition0(await listRangeFiles(config.archiver.dir, H(1), H(2)));
    expect(merged).toHaveLength(1);
    expect(Math.abs(fs.statSync(merged[0]!).mtimeMs - newest)).toBeLessThan(1);
  });
});
