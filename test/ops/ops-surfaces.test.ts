// Every ops action, through each surface that offers it, to completion: the serving API over
// HTTP (reprocess, list, status, cancel, schedules) and the CLI as ops run it (`npm run jobs --
// ...`: reprocess, train, reconcile, compact, recompute-dirty, list, status, schedules), against
// a real batch worker (BullMQ, DuckDB) over a Parquet archive and Redis. Each action must finish
// its job and change what the API serves. (The dashboard's own form: test/browser.)
//
// The archive holds three hours of hand-made traffic; each hour has, in campaign c1 / ad a1,
// 3 impressions and 2 clicks in the window at minute 5. The speed views are seeded as the speed
// layer left them: 2 impressions (it counted one as late) and 2 clicks. So an hour served from
// speed says 2 impressions, from batch 3.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { type RedisClient, createRedis, field, StoreKeys } from '@sigflow/store';
import { raiseArchiveWatermarks } from '@sigflow/store/batch';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor, type ReceivedEvent } from '@sigflow/events';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { ArchiveWriter, listHourFiles, type ArchivedEvent } from '@sigflow/archive';
import { createBatchContext, startBatchWorker, type BatchWorker } from '@sigflow/batch';
import { buildApi } from '@sigflow/api';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { deleteByPrefix, waitUntil } from '../support/redis-keys.js';
import { jobsCli as runJobsCli } from '../support/jobs-cli.js';

const MIN = 60_000;
const HOUR = 3_600_000;
/** 2026-01-05 10:00 UTC; hours H0, H1, H2 follow. */
const H0 = Date.UTC(2026, 0, 5, 10);
const [H1, H2] = [H0 + HOUR, H0 + 2 * HOUR];
const OPS_KEY = 'ops-surfaces-key';
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 16)}Z`;

/** One hour of traffic: 3 impressions, 2 clicks 30 s after theirs; users u1, u3 on partition 0, u2 on 1. */
function hourTraffic(h: number): { impressions: ArchivedEvent[]; clicks: ArchivedEvent[] } {
  const base = { campaign_id: 'c1', ad_id: 'a1', channel: 'search', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36' };
  const at = (user: number, ms: number, type: 'impression' | 'click'): ArchivedEvent => {
    const event: ReceivedEvent = { ...base, event_id: `${type}-${h}-u${user}`, type, user_id: `u${user}-${h}`, ts: ms, received_at: ms + 100 };
    return { event, partition: user === 2 ? 1 : 0, offset: String((h - H0) / 1000 + user * 10 + (type === 'click' ? 5 : 0)) };
  };
  const t = h + 5 * MIN;
  return {
    impressions: [1, 2, 3].map((u) => at(u, t + u * 1_000, 'impression')),
    clicks: [1, 2].map((u) => at(u, t + u * 1_000 + 30_000, 'click')),
  };
}

describe('ops actions through the API and the CLI, to completion', () => {
  const id = randomUUID().slice(0, 8);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-ops-'));
  const env: Record<string, string> = {
    SIGFLOW_REDIS_PREFIX: `t-ops-${id}`,
    SIGFLOW_TOPIC_PREFIX: `t-ops-${id}-`,
    SIGFLOW_BATCH_QUEUE: `batch-ops-${id}`,
    SIGFLOW_ARCHIVE_DIR: path.join(dir, 'archive'),
    SIGFLOW_BATCH_VIEW_PARQUET: 'false',
    SIGFLOW_BATCH_BACKOFF_MS: '100',
    // Parts of one hour, so a reprocess of this suite's three hours fans out (one hour still runs itself).
    SIGFLOW_BATCH_HOURS_PER_PART: '1',
    SIGFLOW_API_KEYS: `${OPS_KEY}:ops`,
    SIGFLOW_LOG_LEVEL: 'warn',
  };
  let config: SigflowConfig;
  let redis: RedisClient;
  let keys: StoreKeys;
  let queueRedis: RedisClient;
  let queue: Queue;
  let worker: BatchWorker;
  let app: FastifyInstance;
  let base: string;

  /** The API over HTTP with the ops key. */
  async function api<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { 'x-api-key': OPS_KEY, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as T };
  }
  /** `npm run jobs -- <args>`, as a process of its own. */
  const jobsCli = (...args: string[]) => runJobsCli(env, ...args);
  /** The hour's served metrics of campaign c1 (one hour bucket). */
  async function servedHour(h: number) {
    const { json } = await api<{ rows: { impressions: number; clicks: number; source: string }[] }>('GET', `/v1/campaigns/c1/metrics?from=${h}&to=${h + HOUR}&granularity=hour`);
    const [row] = json.rows;
    return row ? { impressions: row.impressions, clicks: row.clicks, source: row.source } : null;
  }
  async function finished(jobId: string) {
    return waitUntil(`job ${jobId} to finish`, async () => (await api<{ state: string; failedReason: string | null; data: Record<string, unknown>; returnValue: Record<string, unknown> }>('GET', `/v1/jobs/${jobId}`)).json, (j) => j.state === 'completed' || j.state === 'failed', 120_000);
  }

  beforeAll(async () => {
    config = loadConfig({ ...process.env, ...env });
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    const writer = await ArchiveWriter.open({ root: config.archiver.dir });
    try {
      // Two flushes per hour: two files per partition and hour (compaction has work to do).
      for (const h of [H0, H1, H2]) {
        const { impressions, clicks } = hourTraffic(h);
        await writer.write(impressions);
        await writer.write(clicks);
      }
    } finally {
      await writer.close();
    }
    // The archiver reported every partition past the three hours: they are sealed.
    await raiseArchiveWatermarks(redis, keys, topicsFor(config.kafka.topicPrefix).events, new Map([[0, H0 + 10 * HOUR], [1, H0 + 10 * HOUR]]));
    // What the speed layer served: one impression per hour short (it was late).
    for (const h of [H0, H1, H2]) await seedSpeedHour(h, 2);
    await redis.sadd(keys.campaigns(0), 'c1');

    queueRedis = createRedis(config.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null });
    queue = openBatchQueue(config, queueRedis);
    const logger = createLogger('ops-surfaces', 'silent');
    worker = startBatchWorker({ context: createBatchContext(config, redis), registry: createMetricsRegistry('ops-batch'), logger, queue });
    app = await buildApi({ config, redis, queue, logger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await worker?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    queueRedis?.disconnect();
    if (redis) {
      await deleteByPrefix(redis, config.redis.keyPrefix);
      redis.disconnect();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function seedSpeedHour(h: number, impressions: number): Promise<void> {
    const w = h + 5 * MIN;
    // As the speed layer writes them: the ad's fields and the campaign's rollup.
    await redis.hset(keys.speedMetrics(0, 'c1', h), field(w, 'a1', 'impressions'), impressions, field(w, 'a1', 'clicks'), 2);
    await redis.hset(keys.speedCampaignMetrics(0, 'c1', h), field(w, 'impressions'), impressions, field(w, 'clicks'), 2);
  }

  it('API: POST /v1/jobs/reprocess runs to completion and the hour is served from batch, corrected', async () => {
    expect(await servedHour(H0)).toEqual({ impressions: 2, clicks: 2, source: 'speed' });
    const { status, json: job } = await api<{ id: string; data: Record<string, unknown> }>('POST', '/v1/jobs/reprocess', { from: iso(H0), to: iso(H0 + 30 * MIN) });
    expect(status).toBe(202);
    expect(job.data).toMatchObject({ from: H0, to: H1, requestedBy: expect.stringMatching(/^api:key-[0-9a-f]{12}$/) });
    const done = await finished(job.id);
    expect(done).toMatchObject({ state: 'completed', failedReason: null, returnValue: { hours: 1, replaced: 1, events: 5 } });
    expect(await servedHour(H0)).toEqual({ impressions: 3, clicks: 2, source: 'batch' });
    expect(await servedHour(H1)).toEqual({ impressions: 2, clicks: 2, source: 'speed' });
    const { json: list } = await api<{ jobs: { id: string; state: string }[] }>('GET', '/v1/jobs?state=completed');
    expect(list.jobs).toContainEqual(expect.objectContaining({ id: job.id, state: 'completed' }));
  });

  it('API: DELETE /v1/jobs/:id cancels a waiting reprocess; it never runs', async () => {
    await queue.pause(); // no worker takes it while it is cancelled
    const { json: job } = await api<{ id: string; state: string }>('POST', '/v1/jobs/reprocess', { from: H2, to: H2 + HOUR });
    expect(job.state).toBe('waiting');
    expect((await api('DELETE', `/v1/jobs/${job.id}`)).json).toEqual({ id: job.id, cancelled: true, state: 'waiting' });
    await queue.resume();
    expect((await api('GET', `/v1/jobs/${job.id}`)).status).toBe(404);
    // Checked after the next job (CLI, below) completed: jobs run in order, so H2 would be batch by then.
  });

  it('CLI: jobs reprocess --wait completes and the hour is served from batch; status and list show it', async () => {
    const { code, out } = await jobsCli('reprocess', '--from', iso(H1), '--to', iso(H1 + HOUR), '--wait');
    expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/state completed/) });
    const jobId = /as job (\S+)/.exec(out)?.[1] as string;
    expect(await servedHour(H1)).toEqual({ impressions: 3, clicks: 2, source: 'batch' });
    // The cancelled job (enqueued before this one) did not run.
    expect(await servedHour(H2)).toEqual({ impressions: 2, clicks: 2, source: 'speed' });
    const job = (await api<{ data: Record<string, unknown> }>('GET', `/v1/jobs/${jobId}`)).json;
    expect(job.data).toMatchObject({ from: H1, to: H1 + HOUR, requestedBy: expect.stringMatching(/^cli(:|$)/) });

    const status = await jobsCli('status', jobId);
    expect(status).toMatchObject({ code: 0, out: expect.stringMatching(/state completed[\s\S]*100\.0%\s+1\/1 hours/) });
    const list = await jobsCli('list', '--state', 'completed');
    expect(list.out.split('\n').some((l) => l.startsWith(jobId) && l.includes('completed'))).toBe(true);
  });

  it('API: PUT /v1/schedules installs a scheduler whose jobs complete (a dirty hour is recomputed); CLI schedules lists it', async () => {
    await redis.zadd(keys.dirtyHours(), Date.now(), String(H2));
    const name = `ops-dirty-${id}`;
    const put = await api<{ jobName: string; every: number }>('PUT', `/v1/schedules/${name}`, { every: 1_000, jobName: 'recompute-dirty' });
    expect(put).toMatchObject({ status: 200, json: { jobName: 'recompute-dirty', every: 1_000 } });
    try {
      expect((await api<{ schedules: { id: string }[] }>('GET', '/v1/schedules')).json.schedules.map((s) => s.id)).toContain(name);
      const listed = await jobsCli('schedules');
      expect(listed.out).toMatch(new RegExp(`${name}\\s+recompute-dirty\\s+every 1000 ms`));
      expect(await waitUntil('the scheduled job to recompute H2', () => servedHour(H2), (r) => r?.source === 'batch', 60_000)).toEqual({ impressions: 3, clicks: 2, source: 'batch' });
      expect(await redis.zscore(keys.dirtyHours(), String(H2))).toBeNull();
      const { json } = await api<{ jobs: { name: string; state: string }[] }>('GET', '/v1/jobs?state=completed');
      expect(json.jobs.some((j) => j.name === 'recompute-dirty')).toBe(true);
    } finally {
      await queue.removeJobScheduler(name);
    }
  });

  it('CLI: jobs train --wait publishes a Shapley table the API reports', async () => {
    expect((await api<{ shapleyVersion: string | null }>('GET', '/v1/status')).json.shapleyVersion).toBeNull();
    const { code, out } = await jobsCli('train', '--from', iso(H0), '--to', iso(H2 + HOUR), '--wait');
    expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/state completed/) });
    const version = (await api<{ shapleyVersion: string | null }>('GET', '/v1/status')).json.shapleyVersion;
    expect(version).toEqual(expect.any(String));
    expect(out).toContain(`"shapleyVersion":"${version}"`);
  });

  it('CLI: jobs reconcile --wait refreshes what the batch layer noted against the speed view', async () => {
    type Row = { campaignId: string; batchIsbotVersion: string | null; impressions: { diff: number | null }; changes: { impressions: { diff: number } } | null };
    const row = async () => (await api<{ rows: Row[] }>('GET', `/v1/reconciliation?from=${H0}&to=${H1}`)).json.rows.find((r) => r.campaignId === 'c1');
    // The speed layer caught up with the late impression after the recompute.
    await seedSpeedHour(H0, 3);
    const before = await row();
    expect(before?.impressions.diff).toBe(0);
    // Analysts see which bot list the batch version was computed with.
    expect(before?.batchIsbotVersion).toMatch(/^\d+\.\d+\.\d+/);
    // Recorded at the recompute: speed 2 - batch 3.
    expect(before?.changes?.impressions.diff).toBe(-1);
    const { code, out } = await jobsCli('reconcile', '--from', iso(H0), '--to', iso(H1), '--wait');
    expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/state completed/) });
    expect((await row())?.changes?.impressions.diff).toBe(0);
  });

  it('CLI: jobs compact --wait merges the hour to one file per partition; the served numbers stay', async () => {
    expect(await listHourFiles(config.archiver.dir, H0)).toHaveLength(4);
    const { code, out } = await jobsCli('compact', '--hour', iso(H0), '--force', '--wait');
    expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/"filesBefore":4,"filesAfter":2/) });
    expect(await listHourFiles(config.archiver.dir, H0)).toHaveLength(2);
    expect(await servedHour(H0)).toEqual({ impressions: 3, clicks: 2, source: 'batch' });
  });

  it('CLI: jobs recompute-dirty --wait recomputes a dirty hour as a new version', async () => {
    const version = async () => (await api<{ rows: { campaignId: string; batchVersion: string | null }[] }>('GET', `/v1/reconciliation?from=${H1}&to=${H1 + HOUR}`)).json.rows[0]?.batchVersion;
    const before = await version();
    expect(before).toEqual(expect.any(String));
    await redis.zadd(keys.dirtyHours(), Date.now(), String(H1));
    const { code, out } = await jobsCli('recompute-dirty', '--wait');
    expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/state completed[\s\S]*"dirty":1/) });
    expect(await version()).not.toBe(before);
    expect(await redis.zscore(keys.dirtyHours(), String(H1))).toBeNull();
    expect(await servedHour(H1)).toEqual({ impressions: 3, clicks: 2, source: 'batch' });
  });

  it('CLI and API: a reprocess longer than a part runs as parts; both follow the job to its sums; list shows the parts; every hour is served from batch', async () => {
    const { code, out } = await jobsCli('reprocess', '--from', iso(H0), '--to', iso(H0 + 3 * HOUR), '--wait');
    expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/state completed/) });
    const jobId = /as job (\S+)/.exec(out)?.[1] as string;
    const viaCli = (await api<{ returnValue: Record<string, unknown> }>('GET', `/v1/jobs/${jobId}`)).json;
    expect(viaCli.returnValue).toMatchObject({ parts: 3, hours: 3, replaced: 3, events: 15, recomputedHours: [H0, H1, H2] });
    for (const h of [H0, H1, H2]) expect(await servedHour(h)).toEqual({ impressions: 3, clicks: 2, source: 'batch' });
    const list = await jobsCli('list', '--state', 'completed', '--limit', '50');
    const parts = list.out.split('\n').filter((l) => /\srecompute-part\s+completed\s/.test(l));
    expect(parts.filter((l) => l.includes(`"requestedBy":"cli`)).length).toBeGreaterThanOrEqual(3);

    const { status, json: job } = await api<{ id: string }>('POST', '/v1/jobs/reprocess', { from: iso(H0), to: iso(H0 + 3 * HOUR) });
    expect(status).toBe(202);
    const done = await finished(job.id);
    expect(done).toMatchObject({ state: 'completed', failedReason: null, returnValue: { parts: 3, hours: 3, replaced: 3, events: 15 } });
    // New versions, one per part: none of the CLI run's.
    const versions = done.returnValue['versions'] as string[];
    expect(versions).toHaveLength(3);
    expect(versions.filter((v) => (viaCli.returnValue['versions'] as string[]).includes(v))).toEqual([]);
  });
});
