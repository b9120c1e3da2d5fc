import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Job, Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { recomputeHours } from '@sigflow/batch';
import { hourFolder } from '@sigflow/archive';
import { childPids } from '@sigflow/test-support';
import { Scenario } from '../../support/scenario.js';
import type { ServiceProcess } from '../../support/services.js';
import { truthHours } from '../../support/speed-truth.js';
import { faultScenario, noteRecovery, seededRandom, timeUntil } from './lib/fault-run.js';
import { metricSum } from './lib/metrics.js';
import { faultTraffic, sendToKafka, type Sent } from './lib/traffic.js';
import { batchTally } from './lib/views.js';

const HOUR = 3_600_000;

/**
 * The worker of these scenarios: one hour per pass (progress to kill in the middle of), no
 * schedules; the shipped lock and stalled-job check, and the shipped parts (a 6-hour recompute
 * runs as parts of 4 and 2 hours) and worker processes (two, beside the service's own process).
 */
const workerEnv: Record<string, string> = {
  SIGFLOW_BATCH_HOURS_PER_PASS: '1',
  SIGFLOW_BATCH_ATTEMPTS: '3',
  SIGFLOW_BATCH_BACKOFF_MS: '200',
  SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_VIEW_PARQUET: 'false',
};

function progressOf(job: Job): number {
  const p = job.progress as { hoursDone?: number } | number | undefined;
  return typeof p === 'object' && p ? (p.hoursDone ?? 0) : 0;
}

/** The parts of a fanned-out recompute that run now, with their progress. */
async function activeParts(queue: Queue, parentId: string): Promise<Job[]> {
  return (await queue.getJobs(['active'])).filter((j) => j.name === 'recompute-part' && j.parent?.id === parentId);
}

// The batch layer under faults: the batch service (both its worker processes) killed (kill -9) in
// the middle of a recompute, twice, must still finish the job (BullMQ hands a dead worker's parts
// out again) with views equal to the truth; a job that fails on one hour keeps the served
// version, its part is retried, and the job is reported failed with the part's reason; a worker
// process replaced after each job to free its memory loses and repeats nothing.
describe('faults: batch layer', () => {
  let scenario: Scenario;
  let archiveDir: string;
  let sent: Sent;
  let hours: number[];
  let queue: Queue | undefined;
  let worker: ServiceProcess | undefined;

  beforeAll(async () => {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-batch-'));
    scenario = new Scenario('f-batch', { SIGFLOW_ARCHIVE_DIR: archiveDir });
    await scenario.setUp();
    const archiver = await scenario.archiver(archiveDir);
    await archiver.start();
    // About 2,000 events an hour: a pass over an hour still takes hundreds of ms (mostly its
    // fixed costs, as with 5,000), so a kill still lands between two of them.
    sent = await sendToKafka(scenario, faultTraffic(103, 12_000, { span: 6 * HOUR }));
    const group = scenario.env['SIGFLOW_ARCHIVER_GROUP']!;
    await timeUntil('the archiver to commit everything', async () => (await scenario.groupLag(group)) === 0, 60_000, 250);
    await archiver.stop();
    hours = truthHours(sent.truth);
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await queue?.close();
    queue = undefined;
  });
  afterAll(async () => {
    await scenario?.tearDown();
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  const range = () => ({ from: hours[0]!, to: hours[hours.length - 1]! + HOUR });
  const newQueue = () => openBatchQueue(scenario.config);

  it('worker killed twice during a recompute: the job completes and batch views equal the truth', () =>
    faultScenario('kill -9 batch worker mid-job (x2)', async (row) => {
      worker = await scenario.batchWorker(archiveDir, 'batch', workerEnv);
      await worker.start();
      await worker.ready();
      queue = newQueue();
      const job = await queue.add('recompute', range());
      const random = seededRandom(103);
      const pickups: number[] = [];
      for (let i = 0; i < 2; i++) {
        // Kill somewhere in the middle: after the first or second hour of a running part.
        const after = 1 + Math.floor(random() * 2);
        await timeUntil(`a part to reach hour ${after}`, async () => (await activeParts(queue!, job.id!)).some((p) => progressOf(p) >= after), 60_000, 25);
        const killedAt = Date.now();
        await worker.kill9();
        await worker.start();
        // Recovered = the parts run again, on the restarted workers.
        await timeUntil('a part to be picked up again', async () => (await activeParts(queue!, job.id!)).some((p) => (p.processedOn ?? 0) > killedAt), 60_000, 50);
        pickups.push(Date.now() - killedAt);
        noteRecovery(row, Date.now() - killedAt);
      }
      await timeUntil('the job to finish', async () => ['completed', 'failed'].includes(await job.getState()), 60_000, 100);
      const finished = (await queue.getJob(job.id!))!;
      const state = await finished.getState();
      const tally = await batchTally(scenario.redis, scenario, sent.truth);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost, doubleCounted: tally.doubleCounted });
      row.details = { kills: 2, pickupsMs: pickups, state, attemptsMade: finished.attemptsMade, failedReason: finished.failedReason, hours: hours.length, diffs: tally.diffs };
      expect(state, finished.failedReason).toBe('completed');
      expect(tally.versions.size).toBe(hours.length);
      expect(tally.diffs).toEqual([]);
      expect(tally.served).toBe(sent.truth.totals.unique);
    }));

  it('a worker process over its memory limit after a job is replaced by a new one: the job completes, views equal the truth, the replacements show in /metrics', () =>
    faultScenario('batch worker process replaced after each job (recycle limit 1 MiB)', async (row) => {
      // One worker process, over any limit after every job: the recompute's first run, each part and its last run each end in a new process.
      worker = await scenario.batchWorker(archiveDir, 'batch-recycle', { ...workerEnv, SIGFLOW_BATCH_WORKERS: '1', SIGFLOW_BATCH_WORKER_RECYCLE_MB: '1' });
      await worker.start();
      await worker.ready();
      const service = worker.pid as number;
      const pidsSeen = new Set(childPids(service));
      expect(pidsSeen.size).toBe(1);
      queue = newQueue();
      const startedAt = Date.now();
      const job = await queue.add('recompute', range());
      const readiness: number[] = [];
      await timeUntil(
        'the job to finish',
        async () => {
          for (const pid of childPids(service)) pidsSeen.add(pid);
          readiness.push((await fetch(`http://127.0.0.1:${worker!.metricsPort}/readyz`)).status);
          return ['completed', 'failed'].includes(await job.getState());
        },
        120_000,
        50,
      );
      noteRecovery(row, Date.now() - startedAt);
      const finished = (await queue.getJob(job.id!))!;
      const tally = await batchTally(scenario.redis, scenario, sent.truth);
      // The service counts and logs each replacement as the process exits: read both once the last one settled.
      const replacements = async () => ({
        recycles: await metricSum(worker!.metricsPort, 'sigflow_batch_worker_recycles_total'),
        completedCounted:
          (await metricSum(worker!.metricsPort, 'sigflow_batch_jobs_total', 'kind="recompute",outcome="completed"')) +
          (await metricSum(worker!.metricsPort, 'sigflow_batch_jobs_total', 'kind="recompute-part",outcome="completed"')),
        logged: fs.readFileSync(worker!.log, 'utf8').split('\n').filter((l) => l.includes('to free its memory')).length,
      });
      let settled = { recycles: NaN, completedCounted: NaN, logged: NaN };
      await timeUntil(
        'the last replacement to settle',
        async () => {
          settled = await replacements();
          return childPids(service).length === 1 && settled.recycles === settled.logged;
        },
        30_000,
        100,
      );
      const { recycles, completedCounted, logged } = settled;
      const parts = (await queue.getJobs(['completed', 'failed'])).filter((j) => j.parent?.id === job.id);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost, doubleCounted: tally.doubleCounted });
      row.details = { workerProcesses: pidsSeen.size, recycles, logged, completedCounted, readinessSamples: readiness.length, state: await finished.getState(), attemptsMade: [finished, ...parts].map((j) => j.attemptsMade) };
      expect(await finished.getState(), finished.failedReason).toBe('completed');
      // No attempt is spent on a replacement: the job and each of its two parts completed at their first.
      expect(parts.map((p) => p.attemptsMade)).toEqual([1, 1]);
      expect(finished.attemptsMade).toBe(1);
      expect(tally.diffs).toEqual([]);
      expect(tally.served).toBe(sent.truth.totals.unique);
      // The first run, two parts and the last run: at least three replacements, each counted and logged.
      expect(recycles).toBeGreaterThanOrEqual(3);
      expect(logged).toBe(recycles);
      expect(pidsSeen.size).toBeGreaterThanOrEqual(3);
      // Each completed job ran in a worker process that is gone since: the service still counts them.
      expect(completedCounted).toBe(1 + parts.length);
      // A planned replacement is no outage: the service answered ready all along.
      expect(readiness.filter((status) => status !== 200)).toEqual([]);
      expect(readiness.length).toBeGreaterThan(10);
      await worker.ready(10_000);
    }));

  it('a job that fails on one hour: retried, reported failed, the served version of that hour stays', () =>
    faultScenario('batch job fails on one hour', async (row) => {
      // A served version of every hour to begin with.
      let before = await batchTally(scenario.redis, scenario, sent.truth);
      if (before.versions.size < hours.length || before.diffs.length > 0) {
        await recomputeHours({ ...range(), config: { ...scenario.config, batch: { ...scenario.config.batch, writeViewParquet: false } }, redis: scenario.redis });
        before = await batchTally(scenario.redis, scenario, sent.truth);
      }
      expect(before.diffs).toEqual([]);

      // One hour of the archive holds a file that is not Parquet.
      const bad = hours[Math.floor(hours.length / 2)]!;
      const corrupt = path.join(hourFolder(archiveDir, bad), 'p0-999999990-999999999.parquet');
      fs.writeFileSync(corrupt, 'this is not a parquet file\n');
      let api: ServiceProcess | undefined;
      try {
        worker = await scenario.batchWorker(archiveDir, 'batch-2', workerEnv);
        api = await scenario.api('api-jobs');
        await Promise.all([worker.start(), api.start()]);
        await worker.ready();
        queue = newQueue();
        const job = await queue.add('recompute', range());
        await timeUntil('the job to fail for good', async () => (await job.getState()) === 'failed', 60_000, 100);
        // Both parts read the bad hour (the second one as its context): each fails for good after its attempts.
        const partsSettled = async () => {
          const parts = (await queue!.getJobs(['completed', 'failed', 'active', 'wait', 'delayed'])).filter((j) => j.name === 'recompute-part' && j.parent?.id === job.id);
          const states = await Promise.all(parts.map((p) => p.getState()));
          return parts.length === 2 && states.every((st) => st === 'failed');
        };
        await timeUntil('both parts to fail for good', partsSettled, 60_000, 100);
        const res = await fetch(`http://127.0.0.1:${api.metricsPort}/v1/jobs/${job.id}`, { headers: { 'x-api-key': 'k' } });
        const reported = (await res.json()) as { state: string; attemptsMade: number; attempts: number; failedReason: string | null };
        const failedCount = await metricSum(worker.metricsPort, 'sigflow_batch_jobs_total', 'outcome="failed"');
        const retryingCount = await metricSum(worker.metricsPort, 'sigflow_batch_jobs_total', 'outcome="retrying"');
        const during = await batchTally(scenario.redis, scenario, sent.truth);

        // The fix: the bad file goes, the job is enqueued again and switches new versions in.
        fs.rmSync(corrupt);
        const fixedAt = Date.now();
        const again = await queue.add('recompute', range());
        await timeUntil('the job to complete', async () => ['completed', 'failed'].includes(await again.getState()), 60_000, 100);
        noteRecovery(row, Date.now() - fixedAt);
        const after = await batchTally(scenario.redis, scenario, sent.truth);
        Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: after.served, lost: during.lost + after.lost, doubleCounted: during.doubleCounted + after.doubleCounted });
        row.details = {
          badHour: new Date(bad).toISOString(),
          reported,
          metrics: { failed: failedCount, retrying: retryingCount },
          badHourVersion: { before: before.versions.get(bad), duringFailure: during.versions.get(bad), afterFix: after.versions.get(bad) },
          diffs: [...during.diffs, ...after.diffs],
        };
        // Each part made its 3 attempts (2 retries); the job failed once, with a part's reason; the
        // counts are the service's and its other worker process's together.
        expect(reported.state).toBe('failed');
        expect(reported.failedReason).toMatch(/^part \S+ to \S+ failed after 3 attempts: reading \d+ archive files failed/);
        expect(failedCount).toBe(3);
        expect(retryingCount).toBe(4);
        expect(await metricSum(worker.metricsPort, 'sigflow_batch_jobs_total', 'kind="recompute",outcome="failed"')).toBe(1);
        // The failed hour still serves the version from before; every hour still equals the truth.
        expect(during.versions.get(bad)).toBe(before.versions.get(bad));
        expect(during.diffs).toEqual([]);
        expect(await again.getState()).toBe('completed');
        expect(after.versions.get(bad)).not.toBe(before.versions.get(bad));
        expect(after.diffs).toEqual([]);
      } finally {
        fs.rmSync(corrupt, { force: true });
        await api?.stop();
      }
    }));
});
