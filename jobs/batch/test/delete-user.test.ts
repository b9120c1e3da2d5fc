// A person's deletion in the batch layer, over a real archive, Redis and DuckDB (no speed layer
// runs: the speed state is erased directly after the wait). Expected results come from a second
// run that never had the person: the same events without theirs, written and recomputed apart.
import fs from 'node:fs';
import path from 'node:path';
import { type RedisClient, createRedis } from '@sigflow/store';
import { raiseArchiveWatermarks, readBatchHourEntries } from '@sigflow/store/batch';
import { hasTombstone } from '@sigflow/store/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { listArchiveHours, listHourFiles, type ArchivedEvent } from '@sigflow/archive';
import type { SigflowConfig } from '@sigflow/config';
import { userPartition } from '@sigflow/events';
import { tombstoneHash } from '@sigflow/privacy';
import { createBatchContext, deleteUser, DuckDBSession, recomputeHours, type BatchContext, type DeletionProgress } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, compactingOnFirstRead, conversion, deleteKeys, filesUnder, impression, pageView, rounded, testConfig, writeArchive } from './helpers.js';

const TARGET = 'person-to-forget';
const USERS = ['ann', 'bob', TARGET, 'cid', 'dee'];
const HOURS = [T0, T0 + HOUR, T0 + 2 * HOUR];

/** Every user, every hour: an impression, a click, a page view, and a conversion every other hour; IPs shared in pairs. */
function dataset(): ArchivedEvent[] {
  const offsets = [0, 0];
  const out: ArchivedEvent[] = [];
  for (const h of HOURS) {
    USERS.forEach((user, u) => {
      const partition = u % 2;
      const ip = `10.1.0.${Math.floor(u / 2)}`;
      const ad = { campaign: `c${u % 2}`, ad: `a${u}`, channel: u % 2 === 0 ? 'search' : 'social' };
      const t = h + (5 + u) * MINUTE;
      const base = (n: number, ts: number) => ({ id: `e${h / HOUR}-${u}-${n}`, ts, user, ip });
      const events = [impression({ ...base(0, t), ...ad }), click({ ...base(1, t + 30 * SECOND), ...ad }), pageView({ ...base(2, t + MINUTE), page: 'home' })];
      if (h !== HOURS[1]) events.push(conversion({ ...base(3, t + 10 * MINUTE), value: 5 + u }));
      for (const event of events) out.push({ event, partition, offset: String(offsets[partition]!++) });
    });
  }
  return out;
}

/** Every archive row as `event_id/partition/offset`, and the rows holding `user`, read with DuckDB. */
async function archiveRows(root: string, user: string): Promise<{ rows: string[]; holding: number }> {
  const files: string[] = [];
  for (const h of await listArchiveHours(root)) files.push(...(await listHourFiles(root, h)));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows = [];
    let holding = 0;
    for (const f of files) {
      const read = await conn.runAndReadAll(`SELECT event_id, kafka_partition, kafka_offset::VARCHAR, user_id FROM read_parquet($f, hive_partitioning = false)`, { f });
      for (const [id, p, o, u] of read.getRows() as [string, number, string, string][]) {
        rows.push(`${id}/${p}/${o}`);
        if (u === user) holding++;
      }
    }
    return { rows: rows.sort(), holding };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** An archive of `events`, sealed past the last hour, with every hour recomputed. */
async function recomputedRun(config: SigflowConfig, redis: RedisClient, events: readonly ArchivedEvent[]): Promise<BatchContext> {
  const ctx = createBatchContext(config, redis);
  await writeArchive(ctx.root, events);
  await raiseArchiveWatermarks(redis, ctx.keys, ctx.topic, new Map([[0, T0 + 5 * HOUR], [1, T0 + 5 * HOUR]]));
  await recomputeHours({ context: ctx, from: T0, to: T0 + 3 * HOUR, shapley: null, markov: null });
  return ctx;
}

async function servedHashes(ctx: BatchContext) {
  const entries = await readBatchHourEntries(ctx.redis, ctx.keys, HOURS);
  const out: Record<string, unknown> = {};
  for (const h of HOURS) out[h] = rounded(await actualHashes(ctx.redis, ctx.keys, h, entries.get(h)?.version ?? ''));
  return out;
}

describe('delete-user in the batch layer', () => {
  const env = { SIGFLOW_PRIVACY_SPEED_WAIT_MS: '300', SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '100' };
  const run = testConfig('delete', env);
  const reference = testConfig('delete-ref', env);
  let redis: RedisClient;
  let ctx: BatchContext;
  let refCtx: BatchContext;
  let duckdb: DuckDBSession;
  const events = dataset();
  // A late file of the person alone (a flush of their events only): it must disappear.
  const lateOnly: ArchivedEvent[] = [
    { event: pageView({ id: 'late-1', ts: T0 + 20 * MINUTE, user: TARGET, page: 'home' }), partition: 0, offset: '900' },
    { event: pageView({ id: 'late-2', ts: T0 + 21 * MINUTE, user: TARGET, page: 'home' }), partition: 0, offset: '901' },
  ];

  beforeAll(async () => {
    redis = createRedis(run.config.redis);
    duckdb = await DuckDBSession.open({ threads: 1 });
    ctx = await recomputedRun(run.config, redis, events);
    await writeArchive(ctx.root, lateOnly);
    await recomputeHours({ context: ctx, from: T0, to: T0 + 3 * HOUR, shapley: null, markov: null });
    refCtx = await recomputedRun(reference.config, redis, events.filter((e) => e.event.user_id !== TARGET));
  });

  afterAll(async () => {
    duckdb.close();
    for (const c of [run, reference]) {
      await deleteKeys(redis, c.config.redis.keyPrefix);
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
    redis.disconnect();
  });

  /** Rows of `user` in every touchpoint verdict file of the run. */
  const verdictRows = async (user: string) => {
    const read = await duckdb.connection.runAndReadAll('SELECT count(*)::INTEGER FROM read_parquet($glob) WHERE user_id = $user', {
      glob: path.join(ctx.root, 'verdicts', '**', '*.parquet'),
      user,
    });
    return Number(read.getRows()[0]?.[0]);
  };

  /** Rows of `user` in the files a run's reads hold (`_reads`: links to what they listed). */
  const heldRows = async (user: string, root = ctx.root) => {
    const files = filesUnder(path.join(root, '_reads'));
    if (files.length === 0) return 0;
    const read = await duckdb.connection.runAndReadAll(
      'SELECT count(*)::INTEGER FROM read_parquet($files, union_by_name = true) WHERE user_id = $user',
      { files: listValue(files), user },
      { files: LIST(VARCHAR), user: VARCHAR },
    );
    return Number(read.getRows()[0]?.[0]);
  };

  it('removes the person from the archive and the speed state, recomputes their hours, and leaves everyone else as a run without them', async () => {
    const partition = userPartition(TARGET, run.config.kafka.eventPartitions);
    const other = { p: userPartition('ann', run.config.kafka.eventPartitions), user: 'ann' };
    await redis.rpush(ctx.keys.signals(partition, TARGET), '{"event_id":"x"}');
    await redis.set(ctx.keys.userSnapshot(partition, TARGET), 'snapshot');
    await redis.zadd(ctx.keys.recentUsers(partition), 1, TARGET, 2, 'someone-else');
    await redis.rpush(ctx.keys.signals(other.p, other.user), '{"event_id":"y"}');
    const before = await archiveRows(ctx.root, TARGET);
    expect(before.holding).toBe(3 * 4 - 1 + 2);
    // The views really counted the person before, and the hours' touchpoint verdicts held them.
    expect(await servedHashes(ctx)).not.toEqual(await servedHashes(refCtx));
    expect(await verdictRows(TARGET)).toBeGreaterThan(0);
    // The recomputes' reads still hold the files they read (10 minutes), the person's rows with them.
    expect(await heldRows(TARGET)).toBeGreaterThan(0);

    const progress: DeletionProgress[] = [];
    const result = await deleteUser({ context: ctx, userId: TARGET, requestId: 'del-test', duckdb, onProgress: (p) => void progress.push(p) });

    expect(result.speed).toBe('direct');
    expect(result.rowsRemoved).toBe(before.holding);
    expect(result.filesRemoved).toBe(1);
    expect(result.filesRewritten).toBe(3);
    expect(result.hours).toEqual(HOURS);
    expect(progress.map((p) => p.step).filter((s, i, all) => all[i - 1] !== s)).toEqual(['tombstone', 'speed', 'archive', 'recompute', 'done']);
    expect(progress.at(-1)?.percent).toBe(100);
    expect(JSON.stringify(progress)).not.toContain(TARGET);

    const after = await archiveRows(ctx.root, TARGET);
    expect(after.holding).toBe(0);
    expect(await verdictRows(TARGET)).toBe(0);
    expect(await verdictRows('ann')).toBeGreaterThan(0);
    expect(await heldRows(TARGET)).toBe(0);
    const theirs = new Set([...events, ...lateOnly].filter((e) => e.event.user_id === TARGET).map((e) => `${e.event.event_id}/${e.partition}/${e.offset}`));
    expect(after.rows).toEqual(before.rows.filter((r) => !theirs.has(r)));
    expect(await servedHashes(ctx)).toEqual(await servedHashes(refCtx));
    for (const entry of (await readBatchHourEntries(redis, ctx.keys, HOURS)).values()) expect(entry.computedBy).toBe('privacy:del-test');

    expect(await redis.exists(ctx.keys.signals(partition, TARGET), ctx.keys.userSnapshot(partition, TARGET))).toBe(0);
    expect(await redis.zrange(ctx.keys.recentUsers(partition), 0, -1)).toEqual(['someone-else']);
    expect(await redis.lrange(ctx.keys.signals(other.p, other.user), 0, -1)).toEqual(['{"event_id":"y"}']);
    expect(await redis.hlen(ctx.keys.speedErasures(partition))).toBe(0);
    expect(await hasTombstone(redis, ctx.keys, tombstoneHash(run.config.privacy.salt, TARGET))).toBe(true);

    // Again (a retry after a crash): nothing left to do, the same views.
    const again = await deleteUser({ context: ctx, userId: TARGET, requestId: 'del-test', duckdb });
    expect([again.rowsRemoved, again.filesRewritten, again.filesRemoved]).toEqual([0, 0, 0]);
    expect(await servedHashes(ctx)).toEqual(await servedHashes(refCtx));
  });

  it("reads the files it listed when a compaction replaces them before DuckDB opens them, and leaves no row of the person", async () => {
    const raced = testConfig('delete-race', env);
    try {
      const raceCtx = await recomputedRun(raced.config, redis, events);
      // A second file of partition 0 in the first hour: the hour has something to compact.
      await writeArchive(raceCtx.root, lateOnly);
      expect(await listHourFiles(raceCtx.root, T0)).toHaveLength(3);
      // The race on a local archive: the erasure has its paths, then the hour's compaction
      // publishes its merge and deletes the inputs, then DuckDB opens them.
      const race = compactingOnFirstRead(raceCtx, T0);
      const result = await deleteUser({ context: { ...raceCtx, archive: race.archive }, userId: TARGET, requestId: 'del-race', duckdb });
      expect(race.compactions).toMatchObject([{ filesBefore: 3, filesAfter: 2 }]);
      expect(result.rowsRemoved).toBeGreaterThan(0);
      expect((await archiveRows(raceCtx.root, TARGET)).holding).toBe(0);
      expect(await heldRows(TARGET, raceCtx.root)).toBe(0);
    } finally {
      await deleteKeys(redis, raced.config.redis.keyPrefix);
      fs.rmSync(raced.dir, { recursive: true, force: true });
    }
  });
});
