// A person's deletion recomputes the hours their clicks reached through someone else's IP flood
// verdict: the hour of that person's flooded click, and the hour of their conversion whose path
// gains the click once it is valid. Expected values are hand-computed from DESIGN.md's rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchivedEvent } from '@sigflow/archive';
import type { SigflowConfig } from '@sigflow/config';
import { createRedis, field, type RedisClient } from '@sigflow/store';
import { raiseArchiveWatermarks, readBatchHourEntries } from '@sigflow/store/batch';
import { createBatchContext, deleteUser, DuckDBSession, recomputeHours, type BatchContext } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, click, conversion, impression, testConfig, writeArchive, endTestRun } from './helpers.js';

const H = (n: number) => T0 + n * HOUR;
const ip = '192.0.2.44';
const cN = { campaign: 'cN', ad: 'aN', channel: 'search' };
const cM = { campaign: 'cM', ad: 'aM', channel: 'display' };

/**
 * `person` clicks ten times from `ip` in the last 30 s of hour 0 (partition 0). `n` (partition 1)
 * saw cN and then cM in hour 0 and clicks cN from the same IP 10 s into hour 1: the 11th click
 * of the IP in 60 s, a flood. `n` converts in hour 3, so its last touch is cM; without the
 * person's clicks, n's click is valid and the last touch is cN. `u` converts in hour 2 after a
 * touchpoint of its own: nothing reaches it.
 */
function dataset(): ArchivedEvent[] {
  const events: ArchivedEvent[] = [];
  for (let k = 0; k < 10; k++) events.push({ event: click({ id: `p-c${k}`, user: 'person', ts: H(1) - 30 * SECOND + k * SECOND, ip, ...cM }), partition: 0, offset: String(k) });
  const others = [
    impression({ id: 'n-iN', user: 'n', ts: H(1) - 20 * MINUTE, ...cN }),
    impression({ id: 'n-iM', user: 'n', ts: H(1) - 10 * MINUTE, ...cM }),
    click({ id: 'n-cN', user: 'n', ts: H(1) + 10 * SECOND, ip, ...cN }),
    conversion({ id: 'n-cv', user: 'n', ts: H(3) + 10 * MINUTE, value: 4 }),
    impression({ id: 'u-i', user: 'u', ts: H(1) + 20 * MINUTE, ...cN }),
    conversion({ id: 'u-cv', user: 'u', ts: H(2) + 10 * MINUTE, value: 2 }),
  ];
  others.forEach((event, i) => events.push({ event, partition: 1, offset: String(i) }));
  return events;
}

describe("a deletion and other people's IP floods", () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let ctx: BatchContext;
  let duckdb: DuckDBSession;

  beforeAll(async () => {
    ({ config, dir } = testConfig('erasure-floods', { SIGFLOW_PRIVACY_SPEED_WAIT_MS: '300', SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '0', SIGFLOW_BATCH_VIEW_PARQUET: 'false' }));
    redis = createRedis(config.redis);
    ctx = createBatchContext(config, redis);
    duckdb = await DuckDBSession.open({ threads: 1 });
    await writeArchive(ctx.root, dataset());
    await raiseArchiveWatermarks(redis, ctx.keys, ctx.topic, new Map([[0, H(6)], [1, H(6)]]));
    await recomputeHours({ context: ctx, from: H(0), to: H(4), duckdb, shapley: null, markov: null });
  });

  afterAll(() => endTestRun({ config, dir, redis, duckdb }));

  /** The campaigns a model credits with conversions in an hour (its served batch version). */
  async function credited(hour: number): Promise<string[]> {
    const version = (await readBatchHourEntries(redis, ctx.keys, [hour])).get(hour)!.version;
    const hash = await redis.hgetall(ctx.keys.batchAttribution('last_touch', hour, version));
    return Object.entries(hash).filter(([f, n]) => f.endsWith('\tc') && Number(n) !== 0).map(([f]) => f.split('\t')[1]!);
  }

  async function floodedClicks(hour: number): Promise<string | undefined> {
    const version = (await readBatchHourEntries(redis, ctx.keys, [hour])).get(hour)!.version;
    return (await redis.hgetall(ctx.keys.batchQuality(hour, version)))[field('cN', 'invalid:flood')];
  }

  it("recomputes the hour of the flooded click and of its user's conversion, and no other", async () => {
    expect(await floodedClicks(H(1))).toBe('1');
    expect(await credited(H(3))).toEqual(['cM']);

    const result = await deleteUser({ context: ctx, userId: 'person', requestId: 'erasure-floods', duckdb });

    // Hour 0 holds the person's rows; hours 1 and 3 are reached through n's click.
    expect(result.hours).toEqual([H(0), H(1), H(3)]);
    expect(await floodedClicks(H(1))).toBeUndefined();
    expect(await credited(H(3))).toEqual(['cN']);
    // Hour 2 is recomputed too (a deletion joins hours less than a pass apart), to the same answer.
    expect(await credited(H(2))).toEqual(['cN']);
  });
});
