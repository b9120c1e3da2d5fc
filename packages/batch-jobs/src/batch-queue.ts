import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { BatchConfig, SigflowConfig } from '@sigflow/config';

/** BullMQ's key prefix: under the configured Redis prefix, so test runs stay apart. */
export function bullPrefix(config: SigflowConfig): string {
  return `${config.redis.keyPrefix}:bull`;
}

/** A Redis connection for BullMQ (blocking commands: no per-request retry limit). */
export function bullConnection(config: SigflowConfig): Redis {
  return new Redis(config.redis.url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/**
 * Options of every batch job, whoever enqueues it: `batch.attempts` with exponential backoff
 * from `batch.backoffMs`; finished jobs are kept for `jobs list/status` (`batch.keep*`).
 */
export function batchJobOptions(batch: BatchConfig): JobsOptions {
  return {
    attempts: batch.attempts,
    backoff: { type: 'exponential', delay: batch.backoffMs },
    removeOnComplete: { age: Math.ceil(batch.keepCompletedJobsMs / 1000), count: batch.keepJobs },
    removeOnFail: { age: Math.ceil(batch.keepFailedJobsMs / 1000), count: batch.keepJobs },
  };
}

/**
 * The batch queue (`batch.queueName`, prefix {@link bullPrefix}) with {@link batchJobOptions} as
 * its default job options, so jobs of the API, the CLI, the schedulers and the worker's
 * follow-ups all run with the same attempts and backoff. `connection` defaults to
 * {@link bullConnection}; the caller closes the queue (and a connection it passed).
 */
export function openBatchQueue(config: SigflowConfig, connection: Redis = bullConnection(config)): Queue {
  return new Queue(config.batch.queueName, {
    connection,
    prefix: bullPrefix(config),
    defaultJobOptions: batchJobOptions(config.batch),
  });
}
