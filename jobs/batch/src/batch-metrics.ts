import { Counter, Histogram, type Registry } from 'prom-client';

/** The batch worker's own series (process metrics come with the registry). */
export function batchMetrics(registry: Registry) {
  return {
    jobDuration: new Histogram({
      name: 'sigflow_batch_job_seconds',
      help: 'Job run time by kind and outcome (one attempt)',
      labelNames: ['kind', 'outcome'] as const,
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'sigflow_batch_jobs_total',
      help: 'Job attempts by kind and outcome (completed, failed, retrying, invalid, stopped: its worker lost the lock)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    rowsRead: new Counter({
      name: 'sigflow_batch_rows_read_total',
      help: 'Archive rows read by jobs',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    hoursRecomputed: new Counter({
      name: 'sigflow_batch_hours_recomputed_total',
      help: 'Hours switched to a new batch version',
      registers: [registry],
    }),
  };
}

export type BatchMetrics = ReturnType<typeof batchMetrics>;
