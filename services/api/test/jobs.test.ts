import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError, Worker } from 'bullmq';
import { createRedis } from '@sigflow/store';
import { keysByRole, startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

const ops = withKey('ops');
const H = Date.UTC(2026, 0, 5, 10);
const HOUR = 3_600_000;
/** Who asked, as the API records it: the first 12 hex digits of the ops key's SHA-256. */
const opsRequester = `api:key-${createHash('sha256').update(keysByRole.ops).digest('hex').slice(0, 12)}`;

describe('batch jobs and schedules through BullMQ', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(testConfig());
  });
  afterAll(async () => {
    await api?.close();
  });

  const reprocess = (from: unknown, to: unknown) =>
    api.app.inject({ method: 'POST', url: '/v1/jobs/reprocess', headers: ops, payload: { from, to } });

  it('reprocess enqueues a recompute over whole hours, saying who asked; a waiting job can be cancelled', async () => {
    const res = await reprocess('2026-01-05T10:20Z', H + 3 * HOUR + 10 * 60_000);
    expect(res.statusCode).toBe(202);
    const job = res.json();
    expect(job).toMatchObject({ name: 'recompute', state: 'waiting', progress: 0, attempts: 3 });
    expect(job.data).toEqual({ from: H, to: H + 4 * HOUR, requestedBy: opsRequester });
    // The configured backoff (SIGFLOW_BATCH_BACKOFF_MS, 2 s by default), not a restated one.
    expect((await api.queue.getJob(job.id))?.opts.backoff).toEqual({ type: 'exponential', delay: 2_000 });
    const list = (await api.app.inject({ url: '/v1/jobs?state=waiting', headers: ops })).json();
    expect(list.jobs.map((j: { id: string }) => j.id)).toContain(job.id);
    expect((await api.app.inject({ url: `/v1/jobs/${job.id}`, headers: ops })).json()).toMatchObject({ id: job.id, state: 'waiting' });

    const cancel = await api.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers: ops });
    expect(cancel.json()).toEqual({ id: job.id, cancelled: true, state: 'waiting' });
    expect((await api.app.inject({ url: `/v1/jobs/${job.id}`, headers: ops })).statusCode).toBe(404);
    expect((await api.app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}`, headers: ops })).statusCode).toBe(404);
  });

  it('shows progress, results and errors of processed jobs; finished jobs cannot be cancelled', async () => {
    const ok = (await reprocess(H, H + HOUR)).json();
    const bad = (await reprocess(H + HOUR, H + 2 * HOUR)).json();
    const workerRedis = createRedis(api.config.redis, { maxRetriesPerRequest: null });
    const worker = new Worker(
      api.config.batch.queueName,
      async (job) => {
        await job.updateProgress(50);
        if (job.data.from === H + HOUR) throw new UnrecoverableError('archive hour missing');
        await job.updateProgress(100);
        return { hours: 1 };
      },
      { connection: workerRedis, prefix: `${api.config.redis.keyPrefix}:bull` },
    );
    try {
      const settled = async (id: string) => {
        for (let i = 0; i < 100; i++) {
          const j = (await api.app.inject({ url: `/v1/jobs/${id}`, headers: ops })).json();
          if (j.state === 'completed' || j.state === 'failed') return j;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`job ${id} did not finish`);
      };
      expect(await settled(ok.id)).toMatchObject({ state: 'completed', progress: 100, returnValue: { hours: 1 }, failedReason: null });
      expect(await settled(bad.id)).toMatchObject({ state: 'failed', progress: 50, failedReason: 'archive hour missing', attemptsMade: 1 });
      const cancel = await api.app.inject({ method: 'DELETE', url: `/v1/jobs/${ok.id}`, headers: ops });
      expect(cancel.statusCode).toBe(409);
      const finished = (await api.app.inject({ url: '/v1/jobs?state=completed,failed&limit=10', headers: ops })).json();
      expect(finished.jobs.map((j: { id: string; state: string }) => [j.id, j.state]).sort()).toEqual([
        [ok.id, 'completed'],
        [bad.id, 'failed'],
      ].sort());
    } finally {
      await worker.close();
      workerRedis.disconnect();
    }
  });

  it("lists a recompute's parts with their parent, or leaves them out with parts=false", async () => {
    // As the batch worker fans a long recompute out: parts are jobs of the same queue with a parent.
    const parent = (await reprocess(H + 10 * HOUR, H + 15 * HOUR)).json();
    const parentRef = { id: parent.id, queue: api.queue.qualifiedName };
    const parts = await Promise.all(
      [[10, 12], [12, 14], [14, 15]].map(([a, b]) => api.queue.add('recompute-part', { from: H + a! * HOUR, to: H + b! * HOUR }, { parent: parentRef })),
    );
    const partIds = parts.map((p) => String(p.id)).sort();
    type Listed = { id: string; name: string; parentId: string | null };
    const list = async (query: string) => ((await api.app.inject({ url: `/v1/jobs?limit=10${query}`, headers: ops })).json().jobs as Listed[]).filter((j) => j.id === parent.id || partIds.includes(j.id));
    const all = await list('');
    expect(all.filter((j) => j.parentId === parent.id).map((j) => j.id).sort()).toEqual(partIds);
    expect(all.find((j) => j.id === parent.id)).toMatchObject({ name: 'recompute', parentId: null });
    expect((await list('&parts=false')).map((j) => j.id)).toEqual([parent.id]);
    expect((await api.app.inject({ url: `/v1/jobs/${partIds[0]}`, headers: ops })).json()).toMatchObject({ parentId: parent.id });
    for (const p of parts) await p.remove();
    await (await api.queue.getJob(parent.id))?.remove();
  });

  it('schedules: create with a cron pattern, change to an interval keeping the job, list', async () => {
    const put = (name: string, payload: object) => api.app.inject({ method: 'PUT', url: `/v1/schedules/${name}`, headers: ops, payload });
    const created = await put('recompute-dirty', { pattern: '*/5 * * * *', data: { requestedBy: 'ops-team' } });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ id: 'recompute-dirty', jobName: 'recompute-dirty', pattern: '*/5 * * * *', every: null, data: { requestedBy: 'ops-team' } });
    const changed = (await put('recompute-dirty', { every: 600_000 })).json();
    expect(changed).toMatchObject({ id: 'recompute-dirty', jobName: 'recompute-dirty', every: 600_000, pattern: null, data: { requestedBy: 'ops-team' } });
    expect((await put('train-attribution', { pattern: '15 3 * * *', tz: 'Europe/Berlin' })).json()).toMatchObject({ jobName: 'train-attribution', tz: 'Europe/Berlin' });
    const list = (await api.app.inject({ url: '/v1/schedules', headers: ops })).json();
    expect(list.schedules.map((s: { id: string }) => s.id).sort()).toEqual(['recompute-dirty', 'train-attribution']);
    expect(list.schedules.every((s: { next: number | null }) => typeof s.next === 'number')).toBe(true);
  });

  it('schedules: data the job does not take is refused before it is saved', async () => {
    const put = (name: string, payload: object) => api.app.inject({ method: 'PUT', url: `/v1/schedules/${name}`, headers: ops, payload });
    const wrongField = await put('nightly', { pattern: '0 2 * * *', jobName: 'recompute', data: { dirty: true } });
    expect(wrongField.statusCode).toBe(400);
    expect(wrongField.json()).toMatchObject({ parameter: 'data', error: expect.stringMatching(/recompute: unknown field dirty/) });
    const badHour = await put('compact-now', { every: 60_000, jobName: 'compact', data: { hour: '../../etc/passwd' } });
    expect(badHour.json()).toMatchObject({ statusCode: 400, parameter: 'data', error: expect.stringMatching(/compact\.hour must be an ISO time/) });
    expect(await api.queue.getJobScheduler('nightly')).toBeUndefined();
    expect(await api.queue.getJobScheduler('compact-now')).toBeUndefined();
    // Valid data is stored normalized: the hour as ms.
    const ok = await put('compact-now', { every: 60_000, jobName: 'compact', data: { hour: '2026-01-05T10:30Z' } });
    expect(ok.json()).toMatchObject({ jobName: 'compact', data: { hour: H, force: false } });
  });
});
