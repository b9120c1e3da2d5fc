import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { SigflowConfig } from '@sigflow/config';
import type { BatchOptions } from './batch-context.js';
import type { JobKind } from './job-kinds.js';

/** BullMQ's key prefix: under the configured Redis prefix, so test runs stay apart. */
export function bullPrefix(config: SigflowConfig): string {
  return `${config.redis.keyPrefix}:bull`;
}

/** A Redis connection for BullMQ (blocking commands: no per-request retry limit). */
export function bullConnection(config: SigflowConfig): Redis {
  return new Redis(config.redis.url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** Attempts with exponential backoff; finished jobs are kept for a while for `jobs list/status`. */
export function defaultJobOptions(options: Pick<BatchOptions, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    attempts: options.attempts,
    backoff: { type: 'exponential', delay: options.backoffMs },
    removeOnComplete: { age: 7 * 86_400, count: 1_000 },
    removeOnFail: { age: 30 * 86_400, count: 1_000 },
  };
}

/** The batch queue (producers: the scheduler, the CLI, the API). */
export function createBatchQueue(config: SigflowConfig, options: Pick<BatchOptions, 'attempts' | 'backoffMs'>, connection?: Redis): Queue {
  return new Queue(config.batch.queueName, {
    connection: connection ?? bullConnection(config),
    prefix: bullPrefix(config),
    defaultJobOptions: defaultJobOptions(options),
  });
}

/** The job schedulers the worker installs, by id. */
export const schedulerIds = { recomputeDirty: 'recompute-dirty', retrain: 'train-attribution' } as const;

/**
 * Installs (or updates) the two job schedulers from configuration: recompute dirty hours on
 * `batch.recomputeEvery`, retrain attribution on `batch.retrainEvery` (cron patterns).
 * `upsertJobScheduler` is idempotent, so every worker may call it on start.
 */
export async function installSchedulers(queue: Queue, config: SigflowConfig, options: Pick<BatchOptions, 'attempts' | 'backoffMs'>): Promise<void> {
  const opts = defaultJobOptions(options);
  const kinds: [string, string, JobKind][] = [
    [schedulerIds.recomputeDirty, config.batch.recomputeEvery, 'recompute-dirty'],
    [schedulerIds.retrain, config.batch.retrainEvery, 'train-attribution'],
  ];
  for (const [id, pattern, name] of kinds) {
    await queue.upsertJobScheduler(id, { pattern }, { name, data: {}, opts });
  }
}
