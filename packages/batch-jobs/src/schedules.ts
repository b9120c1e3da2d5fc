import type { Queue } from 'bullmq';
import type { SigflowConfig } from '@sigflow/config';
import type { JobKind } from './job-kinds.js';

/** The job schedulers the batch worker installs, by id. */
export const schedulerIds = { recomputeDirty: 'recompute-dirty', retrain: 'train-attribution', retention: 'enforce-retention' } as const;

/** One job scheduler: its id, cron pattern, and the job it enqueues. */
export interface BatchSchedule {
  readonly id: string;
  readonly pattern: string;
  readonly jobName: JobKind;
  readonly data: { readonly requestedBy: string };
}

/**
 * The configured schedules: recompute dirty hours on `batch.recomputeEvery`, retrain
 * attribution on `batch.retrainEvery`, enforce the retention on `batch.retentionEvery` (cron patterns).
 */
export function batchSchedules(config: SigflowConfig): BatchSchedule[] {
  return [
    { id: schedulerIds.recomputeDirty, pattern: config.batch.recomputeEvery, jobName: 'recompute-dirty', data: { requestedBy: `scheduler:${schedulerIds.recomputeDirty}` } },
    { id: schedulerIds.retrain, pattern: config.batch.retrainEvery, jobName: 'train-attribution', data: { requestedBy: `scheduler:${schedulerIds.retrain}` } },
    { id: schedulerIds.retention, pattern: config.batch.retentionEvery, jobName: 'enforce-retention', data: { requestedBy: `scheduler:${schedulerIds.retention}` } },
  ];
}

/**
 * Installs (or updates) the configured schedules. `upsertJobScheduler` is idempotent, so every
 * worker may call it on start; the jobs get the queue's default options ({@link openBatchQueue}).
 */
export async function installSchedulers(queue: Queue, config: SigflowConfig): Promise<void> {
  for (const s of batchSchedules(config)) {
    await queue.upsertJobScheduler(s.id, { pattern: s.pattern }, { name: s.jobName, data: s.data });
  }
}
