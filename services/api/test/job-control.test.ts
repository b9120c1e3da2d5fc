import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError, Worker } from 'bullmq';
import { archiveFileName, hourFolder } from '@sigflow/archive/layout';
import { createRedis } from '@sigflow/store';
import { startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

const H = Date.UTC(2026, 0, 5, 10);
const HOUR = 3_600_000;

/** Writes a Parquet file of `rows` rows into the archive folder of `hour`. */
async function archiveFile(root: string, hour: number, partition: number, rows: number): Promise<void> {
  const folder = hourFolder(root, hour);
  fs.mkdirSync(folder, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const file = path.join(folder, archiveFileName(partition, '0', String(rows - 1)));
  await conn.run(`COPY (SELECT range AS n, 'e' || range AS event_id, ['x'] AS l FROM range(${rows})) TO '${file}' (FORMAT parquet)`);
  conn.closeSync();
  db.closeSync();
}

describe('job controls: reprocess preview, train, retry', () => {
  let api: TestApi;
  let archive: string;
  const as = (role: Parameters<typeof withKey>[0]) => withKey(role);

  beforeAll(async () => {
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-api-archive-'));
    api = await startTestApi(testConfig({ SIGFLOW_ARCHIVE_DIR: archive }));
    await archiveFile(archive, H, 0, 120);
    await archiveFile(archive, H, 1, 30);
    await archiveFile(archive, H + 2 * HOUR, 0, 7);
  });
  afterAll(async () => {
    await api?.close();
    if (archive) fs.rmSync(archive, { recursive: true, force: true });
  });

  describe('when previewing a reprocess', () => {
    it('counts whole hours, the hours with archive files and their rows from the Parquet footers', async () => {
      const res = await api.app.inject({ url: `/v1/jobs/reprocess/preview?from=2026-01-05T10:20Z&to=${H + 3 * HOUR}`, headers: as('ops') });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ from: H, to: H + 3 * HOUR, hours: 3, archivedHours: 2, files: 3, rows: 157 });
    });

    it('refuses other roles (403), a missing key (401), bad or missing times and unknown parameters (400)', async () => {
      const url = `/v1/jobs/reprocess/preview?from=${H}&to=${H + HOUR}`;
      expect((await api.app.inject({ url, headers: as('analyst') })).statusCode).toBe(403);
      expect((await api.app.inject({ url, headers: as('reader') })).statusCode).toBe(403);
      expect((await api.app.inject({ url, headers: as(null) })).statusCode).toBe(401);
      const bad = await api.app.inject({ url: `/v1/jobs/reprocess/preview?from=yesterday&to=${H}`, headers: as('ops') });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().parameter).toBe('from');
      expect((await api.app.inject({ url: `/v1/jobs/reprocess/preview?from=${H}`, headers: as('ops') })).statusCode).toBe(400);
      expect((await api.app.inject({ url: `${url}&extra=1`, headers: as('ops') })).statusCode).toBe(400);
      expect((await api.app.inject({ url: `/v1/jobs/reprocess/preview?from=${H + HOUR}&to=${H}`, headers: as('ops') })).statusCode).toBe(400);
    });
  });

  describe('when starting a training', () => {
    it('enqueues train-attribution over the given period, saying who asked', async () => {
      const res = await api.app.inject({ method: 'POST', url: '/v1/jobs/train', headers: as('ops'), payload: { from: '2026-01-01T00:00Z', to: H } });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ name: 'train-attribution', state: 'waiting', data: { from: Date.UTC(2026, 0, 1), to: H, requestedBy: expect.stringMatching(/^api:key-/) } });
      const dflt = await api.app.inject({ method: 'POST', url: '/v1/jobs/train', headers: as('ops'), payload: {} });
      expect(dflt.statusCode).toBe(202);
      expect(dflt.json().data).toEqual({ requestedBy: expect.stringMatching(/^api:key-/) });
    });

    it('refuses an analyst (403) and bad bodies (400)', async () => {
      expect((await api.app.inject({ method: 'POST', url: '/v1/jobs/train', headers: as('analyst'), payload: {} })).statusCode).toBe(403);
      const reversed = await api.app.inject({ method: 'POST', url: '/v1/jobs/train', headers: as('ops'), payload: { from: H, to: H - HOUR } });
      expect(reversed.statusCode).toBe(400);
      expect((await api.app.inject({ method: 'POST', url: '/v1/jobs/train', headers: as('ops'), payload: { from: null } })).statusCode).toBe(400);
      expect((await api.app.inject({ method: 'POST', url: '/v1/jobs/train', headers: as('ops'), payload: { hours: 3 } })).statusCode).toBe(400);
    });
  });

  describe('when retrying', () => {
    it('puts a failed job back with its attempts reset; refuses a job that has not failed (409), an unknown one (404), an analyst (403)', async () => {
      const queued = (await api.app.inject({ method: 'POST', url: '/v1/jobs/reprocess', headers: as('ops'), payload: { from: H, to: H + HOUR } })).json();
      const waiting = await api.app.inject({ method: 'POST', url: `/v1/jobs/${queued.id}/retry`, headers: as('ops') });
      expect(waiting.statusCode).toBe(409);
      const workerRedis = createRedis(api.config.redis, { maxRetriesPerRequest: null });
      let runs = 0;
      const worker = new Worker(
        api.config.batch.queueName,
        async (job) => {
          if (job.id !== queued.id) return {}; // the trainings enqueued above
          runs++;
          if (runs === 1) throw new UnrecoverableError('archive hour missing');
          return { hours: 1 };
        },
        { connection: workerRedis, prefix: `${api.config.redis.keyPrefix}:bull` },
      );
      try {
        const state = async () => (await api.app.inject({ url: `/v1/jobs/${queued.id}`, headers: as('ops') })).json();
        await until(async () => (await state()).state === 'failed');
        expect(await state()).toMatchObject({ failedReason: 'archive hour missing' });
        expect((await api.app.inject({ method: 'POST', url: `/v1/jobs/${queued.id}/retry`, headers: as('analyst') })).statusCode).toBe(403);
        const retried = await api.app.inject({ method: 'POST', url: `/v1/jobs/${queued.id}/retry`, headers: as('ops') });
        expect(retried.statusCode).toBe(200);
        expect(retried.json()).toMatchObject({ id: queued.id, attemptsMade: 0 });
        await until(async () => (await state()).state === 'completed');
        expect(runs).toBe(2);
      } finally {
        await worker.close();
        workerRedis.disconnect();
      }
      expect((await api.app.inject({ method: 'POST', url: '/v1/jobs/nope-1/retry', headers: as('ops') })).statusCode).toBe(404);
      expect((await api.app.inject({ method: 'POST', url: '/v1/jobs/bad%20id/retry', headers: as('ops') })).statusCode).toBe(400);
    });
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}
