// Batch worker recovery with the shipped settings (issue 18): a batch service (with its worker
// processes) is killed (kill -9) in the middle of a recompute while a second one runs; the time
// from the kill until every part of the job the killed service ran is active again on the other
// (their locks, SIGFLOW_BATCH_LOCK_MS, run out; the stalled-job check, every
// SIGFLOW_BATCH_STALLED_INTERVAL_MS, hands them out again). A day's recompute runs as parts
// (SIGFLOW_BATCH_HOURS_PER_PART). Median of RUNS, a fresh job each run, run to completion after
// its resume.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@sigflow/config';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { createRedis, deleteKeysWithPrefix } from '@sigflow/store';
import { freePort } from '../infra/lib/process.mjs';
import { DAY_START, writeSyntheticDay } from './batch.bench.mjs';
import { median, startService, stopService } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RECOVERY_BATCH_RUNS ?? 3);
/** Enough for a recompute of the day to outlast the measurement (about 10 s here). */
const ARCHIVE_EVENTS = Number(process.env.BENCH_RECOVERY_BATCH_EVENTS ?? 400_000);
const DAY = 86_400_000;

class BatchLab {
  constructor() {
    this.id = `bench-rec-batch-${randomUUID().slice(0, 8)}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-recovery-batch-'));
    this.env = {
      SIGFLOW_REDIS_PREFIX: this.id,
      SIGFLOW_BATCH_QUEUE: `${this.id}-batch`,
      SIGFLOW_ARCHIVE_DIR: this.dir,
      // Only the bench's jobs run: the schedules wait a year.
      SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *',
      SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
    };
    this.config = loadConfig({ ...process.env, ...this.env });
    this.redis = createRedis(this.config.redis);
    this.workers = [];
  }
  async setUp() {
    await writeSyntheticDay(this.dir, ARCHIVE_EVENTS);
    this.queue = openBatchQueue(this.config);
  }
  /** Starts a batch worker process; resolves once it answers /healthz. */
  async startWorker() {
    const port = await freePort();
    const env = { ...this.env, SIGFLOW_BATCH_METRICS_PORT: String(port) };
    const child = await startService('jobs/batch/dist/main.js', { env, url: `http://127.0.0.1:${port}` });
    this.workers.push(child);
    return child;
  }
  async job(id) {
    return this.queue.getJob(id);
  }
  /** Polls the job until `done` holds of it; returns it. */
  async until(id, done, what, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const job = await this.job(id);
      if (job && (await done(job))) return job;
      await sleep(25);
    }
    throw new Error(`job ${id}: timed out waiting for ${what}`);
  }
  /** Polls jobs `ids` until `done` holds of each. */
  async untilAll(ids, done, what, timeoutMs = 120_000) {
    for (const id of ids) await this.until(id, done, what, timeoutMs);
  }
  async stopWorkers() {
    for (const w of this.workers.splice(0)) await stopService(w);
  }
  async tearDown() {
    await this.stopWorkers();
    await this.queue?.obliterate({ force: true }).catch(() => undefined);
    await this.queue?.close();
    await deleteKeysWithPrefix(this.redis, this.config.redis.keyPrefix);
    this.redis.disconnect();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
  /** The parts of a fanned-out recompute that run now. */
  async activeParts(parentId) {
    return (await this.queue.getJobs(['active'])).filter((j) => j.name === 'recompute-part' && j.parent?.id === parentId);
  }
}

/** One run: service A takes a recompute's parts, spare B starts, A is killed: ms until B runs A's parts. */
async function killedJobResumed(lab) {
  const a = await lab.startWorker();
  const job = await lab.queue.add('recompute', { from: new Date(DAY_START).toISOString(), to: new Date(DAY_START + DAY).toISOString(), requestedBy: 'bench' });
  await lab.until(job.id, async () => (await lab.activeParts(job.id)).length > 0, 'a part active');
  const spareStarted = Date.now();
  await lab.startWorker();
  await sleep(1_000);
  // A's parts: those that were running before B started (B takes waiting parts meanwhile).
  const killed = (await lab.activeParts(job.id)).filter((p) => (p.processedOn ?? 0) < spareStarted).map((p) => p.id);
  if (killed.length === 0) throw new Error('no part of the job was running on the service to kill');
  const t0 = Date.now();
  a.kill('SIGKILL');
  await lab.untilAll(killed, (p) => (p.processedOn ?? 0) > t0, 'active again');
  const ms = Date.now() - t0;
  await lab.until(job.id, async (j) => ['completed', 'failed'].includes(await j.getState()), 'finished');
  const state = await (await lab.job(job.id)).getState();
  if (state !== 'completed') throw new Error(`the resumed job ended ${state}`);
  await lab.stopWorkers();
  return ms;
}

/** The batch section of bench:recovery. */
export async function batchRecovery() {
  const lab = new BatchLab();
  try {
    await lab.setUp();
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(await killedJobResumed(lab));
    const b = lab.config.batch;
    const result = {
      killedJobResumedMs: median(times),
      runs: times,
      settings: { lockDurationMs: b.lockDurationMs, stalledIntervalMs: b.stalledIntervalMs },
      target: { killedJobResumedMs: 15_000 },
    };
    console.log(`batch recovery: killed job resumed after ${result.killedJobResumedMs} ms (runs ${JSON.stringify(times)})`);
    return result;
  } finally {
    await lab.tearDown();
  }
}
