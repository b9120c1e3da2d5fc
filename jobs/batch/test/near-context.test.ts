import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { foldOutcomes, processBatch } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import type { ArchivedEvent } from '@sigflow/archive';
import { createRedis, StoreKeys, type RedisClient } from '@sigflow/store';
import { recomputeHours } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, conversion, expectedHashes, impression, rounded, testConfig, withBatch, writeArchive, endTestRun } from './helpers.js';

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

/** A suite's test run (its own config, Redis prefix and archive folder; no Parquet views), set up before its tests and ended after them. */
interface SuiteRun {
  config: SigflowConfig;
  dir: string;
  redis: RedisClient;
}

/** Registers the suite's set-up and end: a test run whose archive holds `events` (partition 0, in order), if any. */
function suiteRun(name: string, events: () => ReceivedEvent[] = () => []): SuiteRun {
  const run = {} as SuiteRun;
  beforeAll(async () => {
    const { config, dir } = testConfig(name);
    Object.assign(run, { config: withBatch(config, { writeViewParquet: false }), dir, redis: createRedis(config.redis) });
    const archived = events().map((event, i) => ({ event, partition: 0, offset: String(i) }));
    if (archived.length > 0) await writeArchive(config.archiver.dir, archived);
  });
  afterAll(() => endTestRun(run));
  return run;
}

/** Core's processBatch over `events`: the outcomes of the hour FROM. */
function hourTruth(events: ReceivedEvent[], config: SigflowConfig) {
  return processBatch(events, { settings: config.rules }).outcomes.filter((o) => o.ts >= FROM && o.ts < FROM + HOUR);
}

describe('the context a recompute reads from before its hours', () => {
  const run = suiteRun('near-context', traffic);

  it('joins a click in the hour to its impression before it', async () => {
    const { config, redis } = run;
    const result = await recomputeHours({ config, redis, from: FROM, to: FROM + HOUR, computedBy: 'test' });
    const [hour] = result.hours;
    // Every click joined its impression: 10 valid clicks (hand count), as core's processBatch over everything.
    const outcomes = hourTruth(traffic(), config);
    expect(outcomes.filter((o) => o.windowMetric?.clicks === 1 && o.status === 'valid')).toHaveLength(10);
    const actual = await actualHashes(redis, new StoreKeys(config.redis.keyPrefix), FROM, hour!.version);
    expect(rounded(actual)).toEqual(rounded(expectedHashes(foldOutcomes(outcomes))));
  });
});

describe('the far context of a converting user', () => {
  const run = suiteRun('far-context');

  it("judges a converting user's earlier click a flood by the clicks of its IP in other partitions", async () => {
    const { config, redis } = run;
    // w (partition 0) saw cB and then cA five hours before the hour, clicked cB from a shared IP,
    // and converts in the hour. Ten users of partitions 1-3 clicked from that IP in the 20 s
    // before: w's click is the 11th of its IP in 60 s (DESIGN.md: the IP flood counts every
    // partition), so it is no touchpoint and the conversion's last touch is cA, not cB.
    const ip = '198.51.100.23';
    const at = FROM - 5 * HOUR;
    const cA = { campaign: 'cA', ad: 'aA', channel: 'display' };
    const cB = { campaign: 'cB', ad: 'aB', channel: 'social' };
    const events: ArchivedEvent[] = [
      impression({ id: 'w-iB', user: 'w', ts: at - 5 * MINUTE, ...cB }),
      impression({ id: 'w-iA', user: 'w', ts: at - 2 * MINUTE, ...cA }),
      click({ id: 'w-cB', user: 'w', ts: at, ip, ...cB }),
      conversion({ id: 'w-cv', user: 'w', ts: FROM + 10 * MINUTE, value: 3 }),
    ].map((event, i) => ({ event, partition: 0, offset: String(1000 + i) }));
    for (let k = 0; k < 10; k++) {
      const event = click({ id: `n${k}-c`, user: `n${k}`, ts: at - 20 * SECOND + k * SECOND, ip, ...cA });
      events.push({ event, partition: 1 + (k % 3), offset: String(1000 + k) });
    }
    await writeArchive(config.archiver.dir, events);
    const result = await recomputeHours({ config, redis, from: FROM, to: FROM + HOUR, computedBy: 'test' });
    expect(result.passesFromVerdicts).toBe(0);
    expect(await lastTouchConversions(config, redis, result.hours[0]!.version)).toEqual([['cA', 1]]);
  });

  it('judges it so from the touchpoint verdicts once the hours before are computed', async () => {
    const { config, redis } = run;
    // The hours of w's impressions and click, computed (the flood judged with every partition's clicks there).
    await recomputeHours({ config, redis, from: FROM - 6 * HOUR, to: FROM - 4 * HOUR, computedBy: 'test' });
    const result = await recomputeHours({ config, redis, from: FROM, to: FROM + HOUR, computedBy: 'test' });
    expect(result.passesFromVerdicts).toBe(1);
    expect(await lastTouchConversions(config, redis, result.hours[0]!.version)).toEqual([['cA', 1]]);
  });
});

/** The last-touch conversions of the hour FROM, per campaign (non-zero only). */
async function lastTouchConversions(config: SigflowConfig, redis: RedisClient, version: string): Promise<(string | number | undefined)[][]> {
  const keys = new StoreKeys(config.redis.keyPrefix);
  const lastTouch = await redis.hgetall(keys.batchAttribution('last_touch', FROM, version));
  // Fields: window, campaign, channel, 'c' (conversions) or 'r' (revenue).
  return Object.entries(lastTouch).filter(([f]) => f.endsWith('\tc')).map(([f, n]) => [f.split('\t')[1], Number(n)]).filter(([, n]) => n !== 0);
}

describe("a converting user's clicks just before the recomputed hour", () => {
  // w clicked ten times on an ad it never saw in the 45 s before the hour (ten invalid orphans),
  // then, 5 s into the hour, on cC after seeing it: its 11th click in 60 s, a flood (DESIGN.md:
  // the N-th click, N = threshold + 1, of a user within the flood window). w converts later.
  const cC = { campaign: 'cC', ad: 'aC', channel: 'display' };
  const events = (): ReceivedEvent[] => [
    ...Array.from({ length: 10 }, (_, k) => click({ id: `w-o${k}`, user: 'w', ts: FROM - 45 * SECOND + k * SECOND, campaign: 'cZ', ad: 'aZ', channel: 'search' })),
    impression({ id: 'w-iC', user: 'w', ts: FROM - 20 * SECOND, ...cC }),
    click({ id: 'w-cC', user: 'w', ts: FROM + 5 * SECOND, ...cC }),
    conversion({ id: 'w-cv', user: 'w', ts: FROM + 10 * MINUTE, value: 2 }),
  ];

  const run = suiteRun('boundary-flood', events);

  it('judges the click in the hour a flood, from the archive and from the touchpoint verdicts', async () => {
    const { config, redis } = run;
    const truth = hourTruth(events(), config);
    expect(truth.find((o) => o.event_id === 'w-cC')).toMatchObject({ status: 'invalid', reason: 'flood' });
    const expected = rounded(expectedHashes(foldOutcomes(truth)));
    const keys = new StoreKeys(config.redis.keyPrefix);
    const fromArchive = await recomputeHours({ config, redis, from: FROM, to: FROM + HOUR, computedBy: 'test' });
    expect(fromArchive.passesFromVerdicts).toBe(0);
    expect(rounded(await actualHashes(redis, keys, FROM, fromArchive.hours[0]!.version))).toEqual(expected);
    // The hour before computed: its verdicts hold the ten orphan clicks.
    await recomputeHours({ config, redis, from: FROM - HOUR, to: FROM, computedBy: 'test' });
    const fromVerdicts = await recomputeHours({ config, redis, from: FROM, to: FROM + HOUR, computedBy: 'test' });
    expect(fromVerdicts.passesFromVerdicts).toBe(1);
    expect(rounded(await actualHashes(redis, keys, FROM, fromVerdicts.hours[0]!.version))).toEqual(expected);
  });
});
