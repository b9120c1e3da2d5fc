// A deletion whose batch worker is killed (kill -9) in the middle of rewriting the archive: a
// second worker takes the job over and completes it, and the result is the same as a run that
// never had the person (their events left out by this test, recomputed under a prefix of its
// own): archive rows, recomputed views of every hour they touched, no trace of their id.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { userPartition, type ReceivedEvent } from '@sigflow/events';
import { ArchiveWriter, type ArchivedEvent } from '@sigflow/archive';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { createBatchContext, recomputeHours } from '@sigflow/batch';
import { createRedis, deleteKeysWithPrefix } from '@sigflow/store';
import { raiseArchiveWatermarks } from '@sigflow/store/batch';
import { Scenario } from '../support/scenario.js';
import { waitUntil } from '../support/redis-keys.js';
import { archiveMentions, archivedEvents, redisMentions, servedVersionHashes } from './lib.js';

const HOUR = 3_600_000;
const run = randomUUID().slice(0, 8);
const TARGET = `crash-target-${run}`;
const USERS = [TARGET, ...Array.from({ length: 12 }, (_, i) => `user${i}-${run}`)];
/** A day of archive, ending two hours ago. */
const FIRST = Date.now() - (Date.now() % HOUR) - 26 * HOUR;
const HOURS = Array.from({ length: 24 }, (_, i) => FIRST + i * HOUR);

/** Per person and hour an impression, a click and a page view, in the person's Kafka partition. */
function archive(): ArchivedEvent[] {
  const offsets = [0, 0, 0, 0];
  const out: ArchivedEvent[] = [];
  for (const h of HOURS) {
    USERS.forEach((user, u) => {
      const partition = userPartition(user, 4);
      const ad = { campaign_id: `c${u % 3}`, ad_id: `a${u}`, channel: u % 2 ? 'social' : 'search' };
      const t = h + (u + 1) * 60_000;
      const events: ReceivedEvent[] = [
        { ...ad, event_id: `i-${h}-${u}`, type: 'impression', user_id: user, ts: t, received_at: t + 50, ip: `192.0.2.${u}` },
        { ...ad, event_id: `c-${h}-${u}`, type: 'click', user_id: user, ts: t + 20_000, received_at: t + 20_050, ip: `192.0.2.${u}` },
        { event_id: `p-${h}-${u}`, type: 'page_view', user_id: user, ts: t + 40_000, received_at: t + 40_050, page_id: 'home' },
      ];
      for (const event of events) out.push({ event, partition, offset: String(offsets[partition]!++) });
    });
  }
  return out;
}

async function writeArchive(root: string, events: readonly ArchivedEvent[]): Promise<void> {
  const writer = await ArchiveWriter.open({ root });
  for (const p of [0, 1, 2, 3]) await writer.write(events.filter((e) => e.partition === p));
  await writer.close();
}

describe('a deletion survives a kill -9 of its batch worker', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-privacy-crash-'));
  const refDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-privacy-crash-ref-'));
  const scenario = new Scenario('privacy-crash', {
    SIGFLOW_ARCHIVE_DIR: dir,
    SIGFLOW_API_KEYS: 'pk:privacy',
    SIGFLOW_PRIVACY_SPEED_WAIT_MS: '500',
    SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '200',
    SIGFLOW_BATCH_LOCK_MS: '5000',
    SIGFLOW_BATCH_STALLED_INTERVAL_MS: '1000',
  });
  const prefix = scenario.config.redis.keyPrefix;
  const refPrefix = `${prefix}-ref`;
  const events = archive();
  const refRedis = createRedis(scenario.config.redis);

  beforeAll(async () => {
    await writeArchive(dir, events);
    await writeArchive(refDir, events.filter((e) => e.event.user_id !== TARGET));
    const sealed = new Map([0, 1, 2, 3].map((p) => [p, Date.now()]));
    // The fixture's two recomputes (the served views before the deletion, and the reference without
    // the person) run in passes of a day: the result does not depend on it, and 2-hour passes took
    // most of this suite's time (12 passes each). The workers under test run the shipped setting.
    const fixture = { ...process.env, ...scenario.env, SIGFLOW_BATCH_HOURS_PER_PASS: '24' };
    for (const [config, redis] of [
      [loadConfig(fixture), scenario.redis],
      [loadConfig({ ...fixture, SIGFLOW_REDIS_PREFIX: refPrefix, SIGFLOW_ARCHIVE_DIR: refDir }), refRedis],
    ] as const) {
      const ctx = createBatchContext(config, redis);
      await raiseArchiveWatermarks(redis, ctx.keys, ctx.topic, sealed);
      await recomputeHours({ context: ctx, from: FIRST, to: FIRST + 24 * HOUR });
    }
  }, 240_000);

  afterAll(async () => {
    await scenario.tearDown();
    await deleteKeysWithPrefix(refRedis, refPrefix);
    refRedis.disconnect();
    for (const d of [dir, refDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('completes on the next worker with the result of a run without the person', async () => {
    const mine = new Set(events.filter((e) => e.event.user_id === TARGET).map((e) => `${e.event.event_id}/${e.partition}/${e.offset}`));
    const rowsBefore = (await archivedEvents(dir)).map((e) => `${e.event.event_id}/${e.partition}/${e.offset}`).sort();
    expect(await servedVersionHashes(scenario.redis, prefix, HOURS[0] as number)).not.toEqual(await servedVersionHashes(refRedis, refPrefix, HOURS[0] as number));

    const first = await scenario.batchWorker(dir, 'batch-a');
    const api = await scenario.api();
    await first.start();
    await api.start();
    const asked = await fetch(`http://127.0.0.1:${api.metricsPort}/v1/users/${TARGET}`, { method: 'DELETE', headers: { 'x-api-key': 'pk' } });
    expect(asked.status).toBe(202);
    const { requestId } = (await asked.json()) as { requestId: string };

    // Kill the worker while it is rewriting the archive: some of the person's files done, not all.
    const queue = openBatchQueue(scenario.config);
    const atKill = await waitUntil(
      'the deletion to be part-way through the archive',
      async () => ((await queue.getJob(requestId))?.progress ?? {}) as { step?: string; filesDone?: number; filesWithRows?: number },
      (p) => p.step === 'archive' && (p.filesDone ?? 0) >= 3,
      120_000,
      10,
    );
    await first.kill9();
    expect(atKill.filesDone).toBeLessThan(atKill.filesWithRows as number);
    expect(await archiveMentions(dir, TARGET)).not.toEqual([]);

    const second = await scenario.batchWorker(dir, 'batch-b');
    await second.start();
    const job = await waitUntil(
      'the deletion to complete on the second worker',
      async () => {
        const state = await queue.getJobState(requestId);
        return { state, job: await queue.getJob(requestId) };
      },
      (j) => j.state === 'completed' || j.state === 'failed',
      120_000,
    );
    await queue.close();
    expect(job.state).toBe('completed');
    expect(job.job?.returnvalue).toMatchObject({ speed: 'direct', hours: HOURS });
    expect(job.job?.data).not.toHaveProperty('userId');

    const rowsAfter = (await archivedEvents(dir)).map((e) => `${e.event.event_id}/${e.partition}/${e.offset}`).sort();
    expect(rowsAfter).toEqual(rowsBefore.filter((r) => !mine.has(r)));
    expect(await archiveMentions(dir, TARGET)).toEqual([]);
    for (const h of HOURS) expect(await servedVersionHashes(scenario.redis, prefix, h)).toEqual(await servedVersionHashes(refRedis, refPrefix, h));
    expect(await redisMentions(scenario.redis, prefix, TARGET)).toEqual([]);
  }, 300_000);
});
