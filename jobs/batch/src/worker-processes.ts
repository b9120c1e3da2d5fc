import { fork, type ChildProcess } from 'node:child_process';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { Logger } from '@sigflow/observability';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** IPC between the batch service and its worker processes: a metrics request and its answer. */
type MetricsRequest = { readonly metricsRequest: number };
type MetricsAnswer = { readonly metricsAnswer: number; readonly metrics: MetricsJson };

/** How long the service waits for a worker process's metrics before leaving them out of a scrape. */
const metricsAnswerMs = 2_000;

/** Set in the environment of the batch service's extra worker processes: their number, from 1. */
export const workerIndexVariable = 'SIGFLOW_BATCH_WORKER_INDEX';

/** This process's worker index: 0 for the batch service itself, 1.. for the workers it started. */
export function workerIndex(): number {
  return Number(process.env[workerIndexVariable] ?? 0);
}

/** The extra worker processes of the batch service. */
export interface WorkerProcesses {
  /** Their metrics (as `getMetricsAsJSON`), one list per process that answered in time. */
  metrics(): Promise<MetricsJson[]>;
  /** Stops them (SIGTERM: each finishes or hands back its job) and waits for their exit. */
  stop(): Promise<void>;
}

/**
 * `/metrics` of the batch service: its own registry's and its worker processes' metrics summed
 * (prom-client's aggregation: counters and histograms add up), so one scrape covers every job.
 */
export function serviceMetrics(registry: Registry, workers: () => WorkerProcesses | undefined): Pick<Registry, 'metrics' | 'contentType'> {
  return {
    contentType: registry.contentType,
    metrics: async () => {
      const own = (await registry.getMetricsAsJSON()) as MetricsJson;
      const others = (await workers()?.metrics()) ?? [];
      return others.length === 0 ? registry.metrics() : AggregatorRegistry.aggregate([own, ...others]).metrics();
    },
  };
}

/**
 * Starts `count` extra batch worker processes of `script` (the service's own entry, with the same
 * node flags), each with its own DuckDB, one job at a time, no schedulers and its `/metrics` on
 * a port of its own (logged). One that exits is started again after a second; each one exits when
 * this process is gone (its IPC channel closes), so a kill -9 of the service leaves none behind.
 */
export function startWorkerProcesses(script: string, count: number, logger: Logger): WorkerProcesses {
  const children = new Map<number, ChildProcess>();
  let stopping = false;
  const start = (index: number) => {
    const child = fork(script, [], {
      env: { ...process.env, [workerIndexVariable]: String(index), SIGFLOW_BATCH_METRICS_PORT: '0' },
      execArgv: process.execArgv,
      stdio: 'inherit',
    });
    children.set(index, child);
    child.on('exit', (code, signal) => {
      children.delete(index);
      if (stopping) return;
      logger.warn({ worker: index, code, signal }, 'batch worker process exited; starting it again');
      setTimeout(() => !stopping && start(index), 1_000).unref();
    });
  };
  for (let i = 1; i <= count; i++) start(i);
  let nextRequest = 0;
  const metricsOf = (child: ChildProcess) =>
    new Promise<MetricsJson | undefined>((resolve) => {
      const id = ++nextRequest;
      const done = (answer: MetricsJson | undefined) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(answer);
      };
      const onMessage = (m: unknown) => {
        if ((m as MetricsAnswer | undefined)?.metricsAnswer === id) done((m as MetricsAnswer).metrics);
      };
      const timer = setTimeout(() => done(undefined), metricsAnswerMs);
      child.on('message', onMessage);
      if (!child.connected || !child.send({ metricsRequest: id } satisfies MetricsRequest)) done(undefined);
    });
  return {
    metrics: async () => (await Promise.all([...children.values()].map(metricsOf))).filter((m): m is MetricsJson => m !== undefined),
    stop: async () => {
      stopping = true;
      await Promise.all(
        [...children.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/**
 * In an extra worker process, first thing: exits when the batch service that started it is gone
 * (also when it went before this process got here), so none is left behind by a kill -9.
 */
export function exitWithParent(logger: Logger): void {
  const exit = () => {
    logger.warn('the batch service is gone; this worker process exits');
    process.exit(0);
  };
  if (!process.connected) exit();
  process.on('disconnect', exit);
}

/** In an extra worker process: answers the service's metrics requests with `registry`'s metrics. */
export function answerMetricsRequests(registry: Registry): void {
  process.on('message', (m: unknown) => {
    const id = (m as MetricsRequest | undefined)?.metricsRequest;
    if (typeof id !== 'number') return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ metricsAnswer: id, metrics: metrics as MetricsJson } satisfies MetricsAnswer));
  });
}
