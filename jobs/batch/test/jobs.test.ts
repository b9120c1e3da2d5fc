import fs from 'node:fs';
import path from 'node:path';
import type { Queue, QueueEvents } from 'bullmq';
import { type RedisClient, createRedis, StoreKeys } from '@sigflow/store';
import { readBatchHourEntries } from '@sigflow/store/batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import type { ReceivedEvent } from '@sigflow/events';
import { hourFolder } from '@sigflow/archive';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { waitUntil } from '@sigflow/test-support';
import { installSchedulers } from '@sigflow/batch-jobs';
import {
  createBatchContext,
  runCli,
  startBatchWorker,
  type BatchContext,
  type BatchWorker,
} from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, conversion, endQueueTestRun, filesUnder, impression, openQueue, recordProgress, rounded, testConfig, writeArchive } from './helpers.js';

/** Three hours of simple traffic for 20 users. */
function traffic(): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  for (let u = 0; u < 20; u++) {
    for (let k = 0; k < 30; k++) {
      const ts = T0 + k * 6 * MINUTE + u * SECOND;
      const ad = { campaign: `c${u % 3}`, ad: `a${u % 4}`, channel: ['search', 'display', 'social'][k % 3] as string };
      events.push(impression({ id: `u${u}-i${k}`, user: `u${u}`, ts, ...ad }));
      if (k % 2 === 0) events.push(click({ id: `u${u}-c${k}`, user: `u${u}`, ts: ts + 5 * SECOND, ...ad }));
      if (k % 7 === 3) events.push(conversion({ id: `u${u}-v${k}`, user: `u${u}`, ts: ts + 30 * SECOND, value: 5 }));
    }
  }
  return events;
}

function capture() {
  const lines: string[] = [];
  return { lines, out: { log: (l: string) => lines.push(l), error: (l: string) => lines.push(`ERR ${l}`) } };
}

describe('batch jobs on BullMQ', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let ctx: BatchContext;
  let queue: Queue;
  let events: QueueEvents;
  let worker: BatchWorker;

  beforeAll(async () => {
    ({ config, dir } = testConfig('jobs', {
      SIGFLOW_BATCH_RECOMPUTE_EVERY: '*/5 * * * *',
      SIGFLOW_BATCH_RETRAIN_EVERY: '15 3 * * *',
      SIGFLOW_BATCH_ATTEMPTS: '2',
      SIGFLOW_BATCH_BACKOFF_MS: '100',
      SIGFLOW_BATCH_HOURS_PER_PASS: '1',
      SIGFLOW_BATCH_VIEW_PARQUET: 'false',
    }));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    ctx = createBatchContext(config, redis);
    await writeArchive(
      config.archiver.dir,
      traffic().map((event, i) => ({ event, partition: i % 2, offset: String(i) })),
    );
    ({ queue, events } = await openQueue(config));
    worker = startBatchWorker({ context: ctx, registry: createMetricsRegistry('batch-test'), logger: createLogger('batch-test', 'silent') });
  });

  afterAll(() => endQueueTestRun({ workers: worker ? [worker] : [], events, queue, config, redis, dir }));

  it('reports progress (hours done, rows read) up to 100%', async () => {
    const job = await queue.add('recompute', { from: T0, to: T0 + 3 * HOUR });
    const { seen, stop } = recordProgress(events, job.id);
    const result = (await job.waitUntilFinished(events, 60_000)) as { hours: number; rowsRead: number };
    stop();
    expect(result.hours).toBe(3);
    expect(result.rowsRead).toBeGreaterThan(0);
    const percents = seen.map((p) => p.percent);
    expect(percents.length).toBeGreaterThan(3);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(seen.at(-1)).toMatchObject({ hoursDone: 3, hoursTotal: 3 });
    expect(seen.map((p) => p.rowsRead)).toEqual([...seen.map((p) => p.rowsRead)].sort((a, b) => a - b));
    const text = await worker.metrics.jobs.get();
    expect(text.values.find((v) => v.labels.kind === 'recompute' && v.labels.outcome === 'completed')?.value).toBe(1);
    // Its reads are over: the worker keeps none of the archive files it read (a local archive's
    // links under _reads, which would otherwise stay 10 minutes), once the jobs it queued are done too.
    const held = path.join(config.archiver.dir, '_reads');
    expect(await waitUntil('no archive file held once the jobs are done', () => filesUnder(held).length, (n) => n === 0, 10_000, 100)).toBe(0);
  });

  it('a job that keeps throwing is retried, then failed with its error; the previous version keeps serving', async () => {
    const before = (await readBatchHourEntries(redis, keys, [T0])).get(T0);
    expect(before).toBeDefined();
    const corrupt = path.join(hourFolder(config.archiver.dir, T0), 'p9-0-0.parquet');
    fs.writeFileSync(corrupt, 'not a parquet file');
    try {
      const job = await queue.add('recompute', { from: T0, to: T0 + HOUR });
      await expect(job.waitUntilFinished(events, 60_000)).rejects.toThrow(/archive files failed/);
      const failed = await queue.getJob(job.id as string);
      expect(await failed?.getState()).toBe('failed');
      expect(failed?.attemptsMade).toBe(2);
      expect(failed?.failedReason).toMatch(/reading \d+ archive files failed/);
    } finally {
      fs.rmSync(corrupt);
    }
    const after = (await readBatchHourEntries(redis, keys, [T0])).get(T0);
    expect(after).toEqual(before);
    expect(await redis.ttl(keys.batchMetrics('c0', T0, before!.version))).toBeGreaterThan(3600);
    expect(Object.keys(await redis.hgetall(keys.batchMetrics('c0', T0, before!.version))).length).toBeGreaterThan(0);
  });

  it('a malformed job fails at once, without retries, with a clear error', async () => {
    const bad = await queue.add('recompute', { from: 'yesterday', to: T0 });
    await expect(bad.waitUntilFinished(events, 30_000)).rejects.toThrow(/recompute\.from must be an ISO time/);
    expect((await queue.getJob(bad.id as string))?.attemptsMade).toBe(1);
    const unknown = await queue.add('bogus', {});
    await expect(unknown.waitUntilFinished(events, 30_000)).rejects.toThrow(/unknown job kind "bogus"/);
  });

  it('ops CLI: reprocess a range twice gives the same views; list, status with a progress bar, schedules', async () => {
    const a = capture();
    expect(await runCli(['reprocess', '--from', '2026-11-20T10:00Z', '--to', '2026-11-20T12:00Z', '--wait'], config, a.out)).toBe(0);
    const first = await readBatchHourEntries(redis, keys, [T0, T0 + HOUR]);
    const b = capture();
    expect(await runCli(['reprocess', '--from', '2026-11-20T10:00Z', '--to', '2026-11-20T12:00Z', '--wait'], config, b.out)).toBe(0);
    const second = await readBatchHourEntries(redis, keys, [T0, T0 + HOUR]);
    for (const h of [T0, T0 + HOUR]) {
      expect(second.get(h)!.version).not.toBe(first.get(h)!.version);
      expect(rounded(await actualHashes(redis, keys, h, second.get(h)!.version))).toEqual(
        rounded(await actualHashes(redis, keys, h, first.get(h)!.version)),
      );
    }
    expect(a.lines[0]).toMatch(/^enqueued recompute 2026-11-20T10:00Z \.\. 2026-11-20T12:00Z as job \S+/);
    expect(a.lines.some((l) => /state completed/.test(l))).toBe(true);
    expect(a.lines.some((l) => /\[#{30}\] 100\.0%\s+2\/2 hours\s+[\d,]+ rows/.test(l))).toBe(true);

    const id = /as job (\S+)/.exec(b.lines[0] as string)?.[1] as string;
    const status = capture();
    expect(await runCli(['status', id], config, status.out)).toBe(0);
    expect(status.lines.join('\n')).toMatch(/state completed[\s\S]*100\.0%/);
    const list = capture();
    expect(await runCli(['list'], config, list.out)).toBe(0);
    expect(list.lines.some((l) => l.startsWith(id) && l.includes('completed'))).toBe(true);
    expect(list.lines.some((l) => l.includes('failed') && l.includes('archive files failed'))).toBe(true);

    await installSchedulers(queue, config);
    const schedules = capture();
    expect(await runCli(['schedules'], config, schedules.out)).toBe(0);
    expect(schedules.lines.join('\n')).toMatch(/recompute-dirty\s+recompute-dirty\s+\*\/5 \* \* \* \*/);
    expect(schedules.lines.join('\n')).toMatch(/train-attribution\s+train-attribution\s+15 3 \* \* \*/);
    await queue.removeJobScheduler('recompute-dirty');
    await queue.removeJobScheduler('train-attribution');

    const bad = capture();
    expect(await runCli(['reprocess', '--from', 'soon', '--to', '2026-11-20T12:00Z'], config, bad.out)).toBe(2);
    expect(bad.lines[0]).toMatch(/recompute\.from must be an ISO time/);
  });
});
