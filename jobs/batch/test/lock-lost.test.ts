// A worker whose job lock expired (a starved process did not renew it in time) must stop the job
// before its next pass, not run on beside the worker that holds the job now.
import type { Queue, QueueEvents } from 'bullmq';
import { type RedisClient, createRedis } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import type { ReceivedEvent } from '@sigflow/events';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { createBatchContext, startBatchWorker, type BatchWorker } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, click, endQueueTestRun, impression, openQueue, recordProgress, testConfig, writeArchive } from './helpers.js';

const HOURS = 24;

/** A day of traffic: 40 users, an impression every 6 minutes and a click on every other. */
function traffic(): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  for (let u = 0; u < 40; u++) {
    for (let k = 0; k < HOURS * 10; k++) {
      const ts = T0 + k * 6 * MINUTE + u * SECOND;
      const ad = { campaign: `c${u % 3}`, ad: `a${u % 4}`, channel: 'search' };
      events.push(impression({ id: `u${u}-i${k}`, user: `u${u}`, ts, ...ad }));
      if (k % 2 === 0) events.push(click({ id: `u${u}-c${k}`, user: `u${u}`, ts: ts + 5 * SECOND, ...ad }));
    }
  }
  return events;
}

describe('a batch job whose lock went to another worker', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let queue: Queue;
  let events: QueueEvents;
  let worker: BatchWorker;

  beforeAll(async () => {
    ({ config, dir } = testConfig('lock-lost', {
      // Renewed every 250 ms (BullMQ renews a lock at a quarter of its duration): a lost lock is
      // seen well within the day's 24 passes.
      SIGFLOW_BATCH_LOCK_MS: '1000',
      SIGFLOW_BATCH_STALLED_INTERVAL_MS: '1000',
      SIGFLOW_BATCH_HOURS_PER_PASS: '1',
      SIGFLOW_BATCH_VIEW_PARQUET: 'false',
    }));
    redis = createRedis(config.redis);
    await writeArchive(config.archiver.dir, traffic().map((event, i) => ({ event, partition: i % 2, offset: String(i) })));
    ({ queue, events } = await openQueue(config));
    const ctx = createBatchContext(config, redis);
    worker = startBatchWorker({ context: ctx, registry: createMetricsRegistry('batch-test'), logger: createLogger('batch-test', 'silent') });
  });

  afterAll(() => endQueueTestRun({ workers: worker ? [worker] : [], events, queue, config, redis, dir }));

  it('stops before its next pass; the job, handed out again once the lock is free, completes', async () => {
    const job = await queue.add('recompute', { from: T0, to: T0 + HOURS * HOUR });
    const lockKey = queue.toKey(`${job.id}:lock`);
    let taken = false;
    const progress = recordProgress(events, job.id, ({ percent }) => {
      // After the first pass: another worker takes the job over (its lock, its token), for 1.5 s.
      if (!taken && percent > 0) {
        taken = true;
        void redis.set(lockKey, 'another-worker', 'PX', 1_500, 'XX');
      }
    });
    const result = (await job.waitUntilFinished(events, 60_000)) as { hours: number };
    progress.stop();
    expect(result.hours).toBe(HOURS);

    // The first run's progress, up to where the second began again from 0.
    const percents = progress.seen.map((p) => p.percent);
    const restart = percents.findIndex((p, i) => i > 0 && p < (percents[i - 1] as number));
    expect(restart).toBeGreaterThan(0);
    expect(Math.max(...percents.slice(0, restart))).toBeLessThan(100);
    expect(percents.at(-1)).toBe(100);
    const outcomes = (await worker.metrics.jobs.get()).values.filter((v) => v.labels.kind === 'recompute');
    expect(Object.fromEntries(outcomes.map((v) => [v.labels.outcome, v.value]))).toEqual({ stopped: 1, completed: 1 });
    expect((await queue.getJob(job.id as string))?.attemptsStarted).toBe(2);
  });
});
