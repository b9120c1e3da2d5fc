// The batch layer with the archive in S3 (a real S3Proxy started by this suite): recompute,
// compaction, a person's deletion and retention through S3ArchiveStorage, each against the same
// work done on a local folder (the expected values: the local archive is what sigflow always did).
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFolders, readableFiles, type ArchivedEvent, type ArchiveStorage } from '@sigflow/archive';
import { createS3Client } from '@sigflow/archive/s3';
import type { SigflowConfig } from '@sigflow/config';
import { createRedis, type RedisClient } from '@sigflow/store';
import { raiseArchiveWatermarks, readBatchHourEntries } from '@sigflow/store/batch';
import { startScratchS3Proxy, type ScratchS3Proxy } from '../../../infra/s3proxy/s3proxy.mjs';
import { compactHour, createBatchContext, deleteUser, DuckDBSession, enforceRetention, openBatchContext, recomputeHours, type BatchContext } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, conversion, deleteKeys, endTestRun, impression, pageView, rounded, testConfig, writeArchive } from './helpers.js';

const BUCKET = 'sigflow-batch-test';
const TARGET = 'person-on-s3';
const USERS = ['ann', TARGET, 'bob', 'cid'];
const HOURS = [T0, T0 + HOUR, T0 + 2 * HOUR];
const privacy = { SIGFLOW_PRIVACY_SPEED_WAIT_MS: '300', SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '100' };

/** Per user and hour an impression, a click and a page view, a conversion in the first and last hour; users in two partitions. */
function dataset(users: readonly string[]): ArchivedEvent[] {
  const offsets = [0, 0];
  const out: ArchivedEvent[] = [];
  for (const h of HOURS) {
    users.forEach((user) => {
      const u = USERS.indexOf(user);
      const partition = u % 2;
      const ad = { campaign: `c${u % 2}`, ad: `a${u}`, channel: u % 2 === 0 ? 'search' : 'social' };
      const t = h + (5 + u) * MINUTE;
      const base = (n: number, ts: number) => ({ id: `e${h / HOUR}-${u}-${n}`, ts, user, ip: `10.2.0.${u}` });
      const events = [impression({ ...base(0, t), ...ad }), click({ ...base(1, t + 30 * SECOND), ...ad }), pageView({ ...base(2, t + MINUTE), page: 'home' })];
      if (h !== HOURS[1]) events.push(conversion({ ...base(3, t + 10 * MINUTE), value: 5 + u }));
      for (const event of events) out.push({ event, partition, offset: String(offsets[partition]!++) });
    });
  }
  return out;
}

/** The archive written in two flushes (two files per partition and hour, for compaction), sealed, every hour recomputed. */
async function archivedAndRecomputed(ctx: BatchContext, events: readonly ArchivedEvent[], storage?: ArchiveStorage): Promise<void> {
  const half = (e: ArchivedEvent) => Number(e.offset) % 2 === 0;
  await writeArchive(ctx.root, events.filter(half), storage);
  await writeArchive(ctx.root, events.filter((e) => !half(e)), storage);
  await raiseArchiveWatermarks(ctx.redis, ctx.keys, ctx.topic, new Map([[0, T0 + 5 * HOUR], [1, T0 + 5 * HOUR]]));
  await recomputeHours({ context: ctx, from: T0, to: T0 + 3 * HOUR, shapley: null, markov: null });
}

async function servedHashes(ctx: BatchContext) {
  const entries = await readBatchHourEntries(ctx.redis, ctx.keys, HOURS);
  const out: Record<string, unknown> = {};
  for (const h of HOURS) out[h] = rounded(await actualHashes(ctx.redis, ctx.keys, h, entries.get(h)?.version ?? ''));
  return out;
}

/** Every archive row of `hours` as `event_id/partition/offset user`, read from the storage's local copies. */
async function archiveRows(archive: ArchiveStorage, hours: readonly number[]): Promise<string[]> {
  const files = await readableFiles(archive, hours.flatMap((h) => eventFolders(h, h + HOUR)));
  if (files.length === 0) return [];
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  try {
    const sql = `SELECT event_id || '/' || kafka_partition || '/' || kafka_offset || ' ' || user_id FROM read_parquet([${files.map((f) => `'${f.path}'`).join(',')}])`;
    return ((await conn.runAndReadAll(sql)).getRows() as [string][]).map(([r]) => r).sort();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('the batch layer with the archive on S3', () => {
  let s3: ScratchS3Proxy;
  const local = testConfig('s3-local-twin');
  const reference = testConfig('s3-reference', privacy);
  let run: { config: SigflowConfig; dir: string };
  let redis: RedisClient;
  let ctx: BatchContext;
  let twin: BatchContext;
  let refCtx: BatchContext;
  let duckdb: DuckDBSession;
  const events = dataset(USERS);

  /** The objects of the run's prefix in the bucket, less S3Proxy's folder markers. */
  async function bucketKeys(): Promise<string[]> {
    const s3Config = run.config.archive.s3!;
    const client = createS3Client(s3Config);
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: s3Config.prefix }));
      return (page.Contents ?? []).map((o) => (o.Key as string).slice(s3Config.prefix.length)).filter((k) => !k.endsWith('/'));
    } finally {
      client.destroy();
    }
  }

  beforeAll(async () => {
    s3 = await startScratchS3Proxy({ name: 'batch-test', buckets: [BUCKET] });
    run = testConfig('s3-run', { ...privacy, ...s3.archiveEnv(BUCKET, 'run/') });
    redis = createRedis(run.config.redis);
    duckdb = await DuckDBSession.open({ threads: 1 });
    ctx = await openBatchContext(run.config, redis);
    await archivedAndRecomputed(ctx, events, ctx.archive);
    twin = createBatchContext(local.config, redis);
    await archivedAndRecomputed(twin, events);
    refCtx = createBatchContext(reference.config, redis);
    await archivedAndRecomputed(refCtx, events.filter((e) => e.event.user_id !== TARGET));
  }, 120_000);

  afterAll(async () => {
    duckdb?.close();
    await ctx?.archive.close();
    // The twin's and the reference's views share the run's Redis client: their keys go first.
    for (const r of [local, reference]) {
      if (redis) await deleteKeys(redis, r.config.redis.keyPrefix);
      await endTestRun({ dir: r.dir });
    }
    await endTestRun({ ...run, redis });
    await s3?.stop();
  });

  it('recompute: the views served from the bucket equal those of a local folder', async () => {
    expect(ctx.archive.location).toBe(`s3://${BUCKET}/run/`);
    expect(await archiveRows(ctx.archive, HOURS)).toEqual(await archiveRows(twin.archive, HOURS));
    expect(await servedHashes(ctx)).toEqual(await servedHashes(twin));
  });

  it('compaction: one file per partition and hour, the same rows, the same views after a recompute', async () => {
    const rows = await archiveRows(ctx.archive, HOURS);
    for (const hour of HOURS) {
      expect(await ctx.archive.list(eventFolders(hour, hour + HOUR)[0]!)).toHaveLength(4);
      expect(await compactHour({ context: ctx, hour, duckdb })).toMatchObject({ filesBefore: 4, filesAfter: 2 });
    }
    expect(await archiveRows(ctx.archive, HOURS)).toEqual(rows);
    await recomputeHours({ context: ctx, from: T0, to: T0 + 3 * HOUR, shapley: null, markov: null });
    expect(await servedHashes(ctx)).toEqual(await servedHashes(twin));
    // The replaced objects were swept: the bucket holds the 6 merged files, not the 12 inputs.
    expect((await bucketKeys()).filter((k) => k.startsWith('events/') && k.endsWith('.parquet'))).toHaveLength(6);
  });

  it("a person's deletion: their rows leave the bucket, the views equal a run without them", async () => {
    const before = await archiveRows(ctx.archive, HOURS);
    const theirs = before.filter((r) => r.endsWith(` ${TARGET}`));
    expect(theirs).toHaveLength(3 * 3 + 2);
    const result = await deleteUser({ context: ctx, userId: TARGET, requestId: 'del-s3', duckdb });
    expect(result).toMatchObject({ rowsRemoved: theirs.length, filesRewritten: 3, filesRemoved: 0, hours: HOURS });
    expect(await archiveRows(ctx.archive, HOURS)).toEqual(before.filter((r) => !r.endsWith(` ${TARGET}`)));
    expect(await servedHashes(ctx)).toEqual(await servedHashes(refCtx));
    // No object of the bucket holds them: every .parquet object in it is a visible file (the rewritten ones swept).
    const visible = new Set((await readableFiles(ctx.archive, HOURS.flatMap((h) => eventFolders(h, h + HOUR)))).map((f) => `${f.folder}/${f.name}`));
    expect((await bucketKeys()).filter((k) => k.startsWith('events/') && k.endsWith('.parquet')).sort()).toEqual([...visible].sort());
  });

  it('retention: the expired hour goes from the bucket with its views and verdicts', async () => {
    const now = T0 + HOUR + run.config.limits.retentionMs + 10 * MINUTE;
    const result = await enforceRetention({ context: ctx, now });
    expect(result.hours).toEqual([T0]);
    expect(result.archiveFiles).toBe(2);
    expect(await ctx.archive.hours('events')).toEqual([T0 + HOUR, T0 + 2 * HOUR]);
    const hourKey = 'dt=2026-11-20/hr=10/';
    expect((await bucketKeys()).filter((k) => k.includes(hourKey))).toEqual([]);
    expect((await bucketKeys()).filter((k) => k.includes('dt=2026-11-20/hr=11/')).length).toBeGreaterThan(0);
  });
});
