import fs from 'node:fs';
import path from 'node:path';
import type { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { foldOutcomes, processBatch, type EventOutcome } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import { hourFolder } from '@sigflow/archive';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { createRedis, StoreKeys, type RedisClient } from '@sigflow/store';
import { readBatchHourEntries } from '@sigflow/store/batch';
import { createBatchContext, startBatchWorker, type BatchWorker } from '../src/index.js';
import { listJobs } from '../src/cli-views.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, conversion, endQueueTestRun, expectedHashes, impression, openQueue, recordProgress, rounded, testConfig, writeArchive } from './helpers.js';

const HOURS = 5;

/** Five hours of traffic for 24 users; a user's events on partition user % 2 (the speed layer's keying). */
function traffic(): { event: ReceivedEvent; partition: number; offset: string }[] {
  const rows: { event: ReceivedEvent; partition: number }[] = [];
  for (let u = 0; u < 24; u++) {
    for (let k = 0; k < 5 * HOURS; k++) {
      const ts = T0 + k * 12 * MINUTE + u * SECOND;
      const ad = { campaign: `c${u % 3}`, ad: `a${u % 4}`, channel: ['search', 'display', 'social'][k % 3] as string };
      const user = `u${u}`;
      rows.push({ event: impression({ id: `${user}-i${k}`, user, ts, ...ad }), partition: u % 2 });
      if (k % 2 === 0) rows.push({ event: click({ id: `${user}-c${k}`, user, ts: ts + 5 * SECOND, ...ad }), partition: u % 2 });
      if (k % 6 === 4) rows.push({ event: conversion({ id: `${user}-v${k}`, user, ts: ts + 40 * SECOND, value: 7 }), partition: u % 2 });
    }
  }
  return rows.map((r, i) => ({ ...r, offset: String(i) }));
}

/** The truth of one hour: core's processBatch over each partition's events, the hour's outcomes folded. */
function expectedHour(rows: ReturnType<typeof traffic>, hour: number, settings: SigflowConfig['rules']) {
  const outcomes: EventOutcome[] = [];
  for (const partition of [0, 1]) {
    const events = rows.filter((r) => r.partition === partition).map((r) => r.event);
    outcomes.push(...processBatch(events, { settings }).outcomes.filter((o) => o.ts >= hour && o.ts < hour + HOUR));
  }
  return expectedHashes(foldOutcomes(outcomes));
}

describe('a long recompute fans out as parts that several workers take', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let queue: Queue;
  let events: QueueEvents;
  let workers: BatchWorker[] = [];
  const rows = traffic();

  beforeAll(async () => {
    ({ config, dir } = testConfig('parts', {
      SIGFLOW_BATCH_ATTEMPTS: '2',
      SIGFLOW_BATCH_BACKOFF_MS: '100',
      SIGFLOW_BATCH_HOURS_PER_PASS: '1',
      SIGFLOW_BATCH_HOURS_PER_PART: '2',
      SIGFLOW_BATCH_VIEW_PARQUET: 'false',
    }));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    await writeArchive(config.archiver.dir, rows);
    ({ queue, events } = await openQueue(config));
    const ctx = createBatchContext(config, redis);
    const logger = createLogger('parts-test', 'silent');
    workers = [0, 1].map((i) => startBatchWorker({ context: ctx, registry: createMetricsRegistry(`parts-${i}`), logger, queue }));
  });

  afterAll(() => endQueueTestRun({ workers, events, queue, config, redis, dir }));

  it('five hours run as parts of 2, 2 and 1 hours on both workers; every hour equals core processBatch; the parent sums them', async () => {
    const job = await queue.add('recompute', { from: T0, to: T0 + HOURS * HOUR, requestedBy: 'test:parts' });
    const { seen, stop } = recordProgress(events, job.id);
    const result = (await job.waitUntilFinished(events, 90_000)) as { parts: number; hours: number; events: number; recomputedHours: number[]; segments: unknown };
    stop();

    const parts = (await queue.getJobs(['completed'])).filter((j) => j.name === 'recompute-part' && j.parent?.id === job.id);
    expect(parts.map((p) => [p.data.from, p.data.to]).sort((a, b) => a[0] - b[0])).toEqual([
      [T0, T0 + 2 * HOUR],
      [T0 + 2 * HOUR, T0 + 4 * HOUR],
      [T0 + 4 * HOUR, T0 + 5 * HOUR],
    ]);
    expect(parts.every((p) => p.data.requestedBy === 'test:parts')).toBe(true);
    // Both workers took parts (a worker holds one job at a time, and the parent waits for its parts).
    const byWorker = await Promise.all(workers.map((w) => w.metrics.jobs.get()));
    const partsDone = byWorker.map((m) => m.values.find((v) => v.labels.kind === 'recompute-part' && v.labels.outcome === 'completed')?.value ?? 0);
    expect(partsDone.every((n) => n >= 1)).toBe(true);

    expect(result).toMatchObject({ parts: 3, hours: HOURS, events: rows.length });
    expect(result.recomputedHours).toEqual(Array.from({ length: HOURS }, (_, h) => T0 + h * HOUR));
    expect(result.segments).toBeDefined();
    expect(seen.at(-1)).toMatchObject({ hoursDone: HOURS, hoursTotal: HOURS, percent: 100 });

    // The CLI's job list: each part names its parent; --top-level shows the recompute alone.
    const listed = async (topLevel: boolean) => {
      const lines: string[] = [];
      expect(await listJobs(queue, 'completed', 10, { log: (l) => lines.push(l), error: (l) => lines.push(l), progress: () => undefined }, topLevel)).toBe(0);
      return lines.slice(1).filter((l) => l.includes('"requestedBy":"test:parts"'));
    };
    const all = await listed(false);
    expect(all.filter((l) => l.startsWith(String(job.id)))).toHaveLength(1);
    expect(all.filter((l) => l.includes(`part of ${job.id}`) && l.includes('recompute-part'))).toHaveLength(3);
    expect((await listed(true)).map((l) => l.split(' ')[0])).toEqual([String(job.id)]);

    const entries = await readBatchHourEntries(redis, keys, result.recomputedHours);
    for (const hour of result.recomputedHours) {
      const entry = entries.get(hour);
      expect(entry?.computedBy).toMatch(/^job:/);
      expect(rounded(await actualHashes(redis, keys, hour, entry!.version))).toEqual(rounded(expectedHour(rows, hour, config.rules)));
    }
  });

  it('a part that fails for good fails its parent at once, with the part\'s hours and reason', async () => {
    const corrupt = path.join(hourFolder(config.archiver.dir, T0 + 3 * HOUR), 'p9-0-0.parquet');
    fs.writeFileSync(corrupt, 'not a parquet file');
    try {
      const job = await queue.add('recompute', { from: T0, to: T0 + 4 * HOUR });
      await expect(job.waitUntilFinished(events, 90_000)).rejects.toThrow(
        new RegExp(`^part ${new Date(T0 + 2 * HOUR).toISOString()} to ${new Date(T0 + 4 * HOUR).toISOString()} failed after 2 attempts: reading \\d+ archive files failed`),
      );
      const parent = await queue.getJob(job.id as string);
      expect(await parent?.getState()).toBe('failed');
      expect(parent?.attemptsMade).toBe(1);
      const failed = (await queue.getJobs(['failed'])).filter((j) => j.name === 'recompute-part' && j.parent?.id === job.id);
      expect(failed.map((p) => [p.data.from, p.attemptsMade])).toEqual([[T0 + 2 * HOUR, 2]]);
      expect(failed[0]?.failedReason).toMatch(/reading \d+ archive files failed/);
    } finally {
      fs.rmSync(corrupt);
    }
  });
});
