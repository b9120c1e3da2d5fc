import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { BatchConfig, SigflowConfig } from '@sigflow/config';
import { createRedis, type RedisClient } from '@sigflow/store';

/**
 * BullMQ's key prefix: under the configured Redis prefix, so test runs stay apart
 * (`<redis prefix>:bull`). On a Redis Cluster BullMQ's scripts touch several keys of a queue, so
 * the prefix is the hash tag `<redis prefix>:{bull}`: every queue key is in one slot.
 */
export function bullPrefix(config: SigflowConfig): string {
  return config.redis.clusterNodes.length > 0 ? `${config.redis.keyPrefix}:{bull}` : `${config.redis.keyPrefix}:bull`;
}

/** A Redis connection (or cluster client) for BullMQ: blocking commands, so no per-request retry limit. */
export function bullConnection(config: SigflowConfig): RedisClient {
  return createRedis(config.redis, { maxRetriesPerRequest: null, enableReadyCheck: true, enableAutoPipelining: false });
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
export function openBatchQueue(config: SigflowConfig, connection: RedisClient = bullConnection(config)): Queue {
  return new Queue(config.batch.queueName, {
    connection,
    prefix: bullPrefix(config),
    defaultJobOptions: batchJobOptions(config.batch),
  });
}

/**
 * A job and its state, read in that order: a job read before it finishes and its state read after
 * would show `completed` with no return value, which a poller takes as the final answer.
 */
export async function readJobAndState(queue: Queue, id: string): Promise<{ job: Job; state: string } | null> {
  const state = await queue.getJobState(id);
  const job = await queue.getJob(id);
  return job ? { job, state } : null;
}

/**
 * How many jobs a listing without parts reads per job it answers: a day's recompute fans out as
 * 6 `recompute-part` jobs (`SIGFLOW_BATCH_HOURS_PER_PART`), newer than their parent.
 */
const readPerJobWithoutParts = 8;

/**
 * The newest jobs of `types` (BullMQ's order, up to `limit` of them to answer), with or without
 * the parts of a fanned-out recompute (jobs with a parent). The caller sorts and cuts to `limit`.
 */
export async function recentJobs(queue: Queue, types: Parameters<Queue['getJobs']>[0], limit: number, options: { parts: boolean }): Promise<Job[]> {
  const read = Math.max(1, limit) * (options.parts ? 1 : readPerJobWithoutParts);
  const jobs = await queue.getJobs(types, 0, read - 1, false);
  return jobs.filter((job) => job && (options.parts || !job.parent));
}
