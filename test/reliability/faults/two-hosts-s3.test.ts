import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFolders, openArchiveStorage, readableFiles, stagingRoot, type ArchiveStorage } from '@sigflow/archive';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { filesUnder } from '@sigflow/test-support';
import { startScratchS3Proxy, type ScratchS3Proxy } from '../../../infra/s3proxy/s3proxy.mjs';
import { Scenario } from '../../support/scenario.js';
import type { ServiceProcess } from '../../support/services.js';
import { truthHours } from '../../support/speed-truth.js';
import { faultScenario, noteRecovery, sleep, timeUntil, type RowDraft } from './lib/fault-run.js';
import { faultTraffic, sendToKafka, type Sent } from './lib/traffic.js';
import { archiveFilesTally, batchTally } from './lib/views.js';

const HOUR = 3_600_000;
const BUCKET = 'sigflow-two-hosts';

/**
 * A batch host of this scenario: one worker process, one hour per pass and per part (a range of
 * hours is as many parts, which the two hosts share), no schedules.
 */
const workerEnv: Record<string, string> = {
  SIGFLOW_BATCH_WORKERS: '1',
  SIGFLOW_BATCH_HOURS_PER_PASS: '1',
  SIGFLOW_BATCH_HOURS_PER_PART: '1',
  SIGFLOW_BATCH_ATTEMPTS: '3',
  SIGFLOW_BATCH_BACKOFF_MS: '200',
  SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
};

/** kill -9 of `archiver` while a flush of its host is staged and not yet published. */
async function killMidFlush(archiver: ServiceProcess, hostDir: string): Promise<void> {
  await timeUntil('a flush of the archiver in progress', async () => filesUnder(stagingRoot(hostDir)).length > 0, 30_000, 1);
  await archiver.kill9();
}

async function activeParts(queue: Queue, parentId: string): Promise<Job[]> {
  return (await queue.getJobs(['active'])).filter((j) => j.name === 'recompute-part' && j.parent?.id === parentId);
}

async function settled(jobs: readonly Job[]): Promise<boolean> {
  const states = await Promise.all(jobs.map((j) => j.getState()));
  return states.every((s) => s === 'completed' || s === 'failed');
}

// Point 5 of issue 41: the archive in S3 (s3proxy), two archiver hosts and two batch hosts, each
// with its own local folder (staging, cache), sharing only Kafka, Redis and the bucket. Under the
// generator's traffic one archiver is killed (kill -9) with a flush staged and one batch host in
// the middle of a recompute; the served batch views must equal the truth, and after the hours
// are compacted the bucket must hold every message exactly once (read back through DuckDB).
describe('faults: two hosts sharing only Kafka, Redis and S3', () => {
  let s3: ScratchS3Proxy;
  let scenario: Scenario;
  let root: string;
  let queue: Queue | undefined;
  let reader: ArchiveStorage | undefined;

  beforeAll(async () => {
    s3 = await startScratchS3Proxy({ name: 'two-hosts', buckets: [BUCKET] });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-two-hosts-'));
    scenario = new Scenario('f-two-hosts', s3.archiveEnv(BUCKET, 'archive/'));
    await scenario.setUp();
  });
  afterAll(async () => {
    await queue?.close();
    await reader?.close();
    await scenario?.tearDown();
    await s3?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** A host's own local folder (staging, cache). */
  const hostDir = (name: string): string => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };

  async function archiveUnderTraffic(row: RowDraft): Promise<Sent> {
    const a = await scenario.archiver(hostDir('archiver-a'), 'archiver-a');
    const b = await scenario.archiver(hostDir('archiver-b'), 'archiver-b');
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.ready(), b.ready()]);
    const traffic = sendToKafka(scenario, faultTraffic(131, 30_000, { span: 4 * HOUR }), 2_000);
    await sleep(3_000);
    const killedAt = Date.now();
    await killMidFlush(a, path.join(root, 'archiver-a'));
    await a.start();
    await a.ready(30_000);
    noteRecovery(row, Date.now() - killedAt);
    const sent = await traffic;
    const group = scenario.env['SIGFLOW_ARCHIVER_GROUP']!;
    await timeUntil('the archivers to commit everything', async () => (await scenario.groupLag(group)) === 0, 90_000, 250);
    await Promise.all([a.stop(), b.stop()]);
    return sent;
  }

  /** A recompute of `hours` on both batch hosts, host A killed while both run a part; returns the job's state. */
  async function recomputeWithKill(row: RowDraft, hours: number[]): Promise<string> {
    const a = await scenario.batchWorker(hostDir('batch-a'), 'batch-a', workerEnv);
    const b = await scenario.batchWorker(hostDir('batch-b'), 'batch-b', workerEnv);
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.ready(), b.ready()]);
    queue = openBatchQueue(scenario.config);
    const job = await queue.add('recompute', { from: hours[0]!, to: hours.at(-1)! + HOUR });
    // Two parts at once: one on each host (one worker each), so host A dies holding one.
    await timeUntil('a part on each host', async () => (await activeParts(queue!, job.id!)).length >= 2, 90_000, 25);
    const killedAt = Date.now();
    await a.kill9();
    await a.start();
    await timeUntil('the killed part to be picked up again', async () => (await activeParts(queue!, job.id!)).some((p) => (p.processedOn ?? 0) > killedAt), 90_000, 50);
    noteRecovery(row, Date.now() - killedAt);
    await timeUntil('the recompute to finish', () => settled([job]), 120_000, 100);
    return job.getState();
  }

  /** Compacts every hour (forced: the last ones are not sealed), beside (or after) the compactions the recompute enqueued itself. */
  async function compactAll(hours: number[]): Promise<{ state: string; result: unknown }[]> {
    const compactions = await Promise.all(hours.map((hour) => queue!.add('compact', { hour, force: true })));
    await timeUntil('the hours to be compacted', () => settled(compactions), 120_000, 100);
    // A compaction of the recompute's that lost the race to one of these may still be merging its other partitions.
    await timeUntil('no compaction to run', async () => (await queue!.getJobs(['active', 'waiting', 'delayed'])).every((j) => j.name !== 'compact'), 120_000, 100);
    return Promise.all(compactions.map(async (c) => ({ state: await c.getState(), result: (await queue!.getJob(c.id!))?.returnvalue })));
  }

  /** The bucket's event files of `hours`, downloaded by a host of its own, against the messages sent. */
  async function bucketTally(hours: number[], sent: Sent) {
    reader ??= await openArchiveStorage({ ...scenario.config.archive, dir: hostDir('reader'), cacheDir: path.join(hostDir('reader'), 'cache') }, { reads: true });
    const files = await readableFiles(reader, eventFolders(hours[0]!, hours.at(-1)! + HOUR));
    return { files, tally: await archiveFilesTally(files.map((f) => f.path), sent.ids) };
  }

  it('kill -9 of an archiver mid-flush and of a batch host mid-recompute: views equal the truth, the bucket holds every message once', () =>
    faultScenario('two hosts on S3: kill -9 archiver mid-flush, batch host mid-recompute', async (row) => {
      const sent = await archiveUnderTraffic(row);
      const hours = truthHours(sent.truth);
      // Before any compaction: the replays the killed archiver left (none when it died before its put).
      const before = await bucketTally(hours, sent);
      const state = await recomputeWithKill(row, hours);
      const tally = await batchTally(scenario.redis, scenario, sent.truth);
      const compactions = await compactAll(hours);
      const { files, tally: bucket } = await bucketTally(hours, sent);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost + bucket.lost, doubleCounted: tally.doubleCounted + bucket.doubleCounted });
      row.details = {
        ...row.details,
        state,
        hours: hours.length,
        archived: { files: before.files.length, replayedRows: before.tally.replayedRows, lost: before.tally.lost },
        compactions,
        bucket: { files: files.length, messages: bucket.messages, replayedRows: bucket.replayedRows, diffs: bucket.diffs },
        diffs: tally.diffs,
      };

      // Archived by the two hosts, the kill's replays aside: every message at least once.
      expect(before.tally.lost).toBe(0);
      expect(state).toBe('completed');
      expect(compactions.map((c) => c.state)).toEqual(hours.map(() => 'completed'));
      expect(tally.versions.size).toBe(hours.length);
      expect(tally.diffs).toEqual([]);
      expect(tally.served).toBe(sent.truth.totals.unique);
      // Every message sent (the generator's duplicates are messages of their own) once, none twice.
      expect(bucket.diffs).toEqual([]);
      expect(bucket.messages).toBe(sent.truth.totals.sent);
      expect(bucket.replayedRows).toBe(0);
      // Compacted: one file per (hour, partition) that has events.
      const perHourPartition = new Set(files.map((f) => `${f.folder}/${f.name.split('-')[0]}`));
      expect(files.length).toBe(perHourPartition.size);
    }));
});
