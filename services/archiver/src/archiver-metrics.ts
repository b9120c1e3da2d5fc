import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '@sigflow/observability';

/** The archiver's own series (process metrics come with the registry). */
export function archiverMetrics(registry: Registry) {
  return {
    rows: new Counter({
      name: 'sigflow_archiver_rows_total',
      help: 'Events written to Parquet and committed',
      registers: [registry],
    }),
    tombstoned: new Counter({
      name: 'sigflow_archiver_tombstoned_events_total',
      help: 'Events of deleted people left out of the archive (late arrivals, replays)',
      registers: [registry],
    }),
    rowsPerSecond: new Gauge({
      name: 'sigflow_archiver_rows_per_second',
      help: 'Events archived per second over the last flush interval',
      registers: [registry],
    }),
    files: new Counter({
      name: 'sigflow_archiver_files_total',
      help: 'Parquet files made visible',
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'sigflow_archiver_bytes_total',
      help: 'Bytes of Parquet files made visible',
      registers: [registry],
    }),
    flushDuration: new Histogram({
      name: 'sigflow_archiver_flush_seconds',
      help: 'Time to write, rename, mark dirty and commit one flush',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    flushFailures: new Counter({
      name: 'sigflow_archiver_flush_failures_total',
      help: 'Flushes that failed (their events stay buffered, uncommitted, and are retried)',
      registers: [registry],
    }),
    undecodable: new Counter({
      name: 'sigflow_archiver_undecodable_total',
      help: 'Messages that are not valid events (not archived; the speed layer dead-letters them)',
      registers: [registry],
    }),
    buffered: new Gauge({
      name: 'sigflow_archiver_buffered_events',
      help: 'Events consumed but not yet archived',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'sigflow_archiver_consumer_lag',
      help: 'Messages of a partition not yet archived and committed (high watermark - committed offset)',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    dirtyHours: new Counter({
      name: 'sigflow_archiver_dirty_marks_total',
      help: 'Hours marked dirty (one per hour per flush)',
      registers: [registry],
    }),
  };
}

export type ArchiverMetrics = ReturnType<typeof archiverMetrics>;
