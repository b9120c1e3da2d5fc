import { fork, type ChildProcess } from 'node:child_process';
import { AggregatorRegistry, Counter, type Registry } from 'prom-client';
import type { Logger } from '@sigflow/observability';
import { RetiredMetrics, type MetricsJson } from './retired-metrics.js';

/** IPC between the batch service and its worker processes: a metrics request and its answer. */
type MetricsRequest = { readonly metricsRequest: number };
type MetricsAnswer = { readonly metricsAnswer: number; readonly metrics: MetricsJson };
/** A worker process's news to the service: it takes jobs, it exits after its job to free its memory, its metrics as it exits. */
type WorkerNews = { readonly workerReady: true } | { readonly recyclingAtRss: number } | { readonly finalMetrics: MetricsJson };

/** How long a worker replaced to free its memory counts as ready while its replacement starts (1-2 s when all is well). */
const replacementGraceMs = 30_000;

/** How long the service waits for a worker process's metrics before leaving them out of a scrape. */
const metricsAnswerMs = 2_000;

/** Set in the environment of the batch service's worker processes: their number, from 1. */
export const workerIndexVariable = 'SIGFLOW_BATCH_WORKER_INDEX';

/** This process's worker index: 0 for the batch service itself, 1.. for the worker processes it started. */
export function workerIndex(): number {
  return Number(process.env[workerIndexVariable] ?? 0);
}

/** The worker processes of the batch service. */
export interface WorkerProcesses {
  /** Whether one of them takes jobs now. */
  ready(): boolean;
  /**
   * Their metrics (as `getMetricsAsJSON`), one list per process that answered in time, and one
   * more with the counters and histograms of those that exited (their last words, or what they
   * answered last), so that the summed counters never fall when a worker is replaced.
   */
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
 * Starts `count` batch worker processes of `script` (the service's own entry, with the same node
 * flags), each with its own DuckDB, one job at a time, no schedulers and its `/metrics` on a port
 * of its own (logged). One that exits after a job to free its memory (`recycleAfterJob`) is
 * started again at once, one that died after a second; each one exits when this process is gone
 * (its IPC channel closes), so a kill -9 of the service leaves none behind.
 */
export function startWorkerProcesses(script: string, count: number, logger: Logger, registry: Registry): WorkerProcesses {
  const recycles = new Counter({ name: 'sigflow_batch_worker_recycles_total', help: 'Worker processes that exited after a job with their RSS over SIGFLOW_BATCH_WORKER_RECYCLE_MB, replaced by new ones', registers: [registry] });
  const children = new Map<number, ChildProcess>();
  // Per worker index, until when it counts as ready: for good once its process takes jobs; for a
  // while when it is being replaced to free its memory (the queue keeps the jobs meanwhile: the
  // service's readiness does not flap for a planned replacement).
  const readyUntil = new Map<number, number>();
  const retired = new RetiredMetrics();
  let stopping = false;
  const start = (index: number) => {
    const child = fork(script, [], {
      env: { ...process.env, [workerIndexVariable]: String(index), SIGFLOW_BATCH_METRICS_PORT: '0' },
      execArgv: process.execArgv,
      stdio: 'inherit',
    });
    children.set(index, child);
    let recyclingAtRss: number | undefined;
    child.on('message', (m: unknown) => {
      const news = m as { workerReady?: unknown; recyclingAtRss?: unknown; finalMetrics?: unknown } | undefined;
      if (news?.workerReady === true) readyUntil.set(index, Infinity);
      if (typeof news?.recyclingAtRss === 'number') recyclingAtRss = news.recyclingAtRss;
      if (Array.isArray(news?.finalMetrics)) retired.lastWordsOf(child, news.finalMetrics as MetricsJson);
    });
    child.on('exit', (code, signal) => {
      children.delete(index);
      const recycled = recyclingAtRss !== undefined && code === 0;
      if (recycled && !stopping) readyUntil.set(index, Date.now() + replacementGraceMs);
      else readyUntil.delete(index);
      retired.retire(child);
      if (stopping) return;
      if (recycled) {
        recycles.inc();
        logger.info({ worker: index, rssMiB: Math.round((recyclingAtRss ?? 0) / 2 ** 20) }, 'batch worker process exited after its job to free its memory; starting a new one');
        return start(index);
      }
      logger.warn({ worker: index, code, signal }, 'batch worker process exited; starting it again');
      setTimeout(() => !stopping && start(index), 1_000).unref();
    });
  };
  for (let i = 1; i <= count; i++) start(i);
  let nextRequest = 0;
  return {
    ready: () => [...readyUntil.values()].some((until) => until > Date.now()),
    metrics: async () => {
      const answers = await Promise.all(
        [...children.values()].map(async (child) => {
          const answer = await metricsOf(child, ++nextRequest);
          if (answer !== undefined && child.exitCode === null && child.signalCode === null) retired.answered(child, answer);
          return answer;
        }),
      );
      return [...answers.filter((m): m is MetricsJson => m !== undefined), await retired.toJson()];
    },
    stop: async () => {
      stopping = true;
      await Promise.all([...children.values()].map(stopChild));
    },
  };
}

/** A worker process's metrics, asked over IPC as request `id` (undefined when it does not answer in time). */
function metricsOf(child: ChildProcess, id: number): Promise<MetricsJson | undefined> {
  return new Promise((resolve) => {
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
}

/** SIGTERM to a worker process (it finishes or hands back its job), resolved once it exited. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * In a worker process, first thing: exits when the batch service that started it is gone
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

/** In a worker process, once its BullMQ worker runs: tells the service it takes jobs. */
export function announceReady(): void {
  process.send?.({ workerReady: true } satisfies WorkerNews);
}

/**
 * In a worker process: what to call after each job. Once the process's RSS is above
 * `limitBytes` (0: never), it tells the service and shuts down as on SIGTERM, and answers true
 * (the worker is to take no other job); the service starts a new process.
 */
export function recycleAfterJob(limitBytes: number, logger: Logger): () => boolean {
  let recycling = false;
  return () => {
    const rss = process.memoryUsage.rss();
    if (recycling || limitBytes === 0 || rss <= limitBytes) return recycling;
    recycling = true;
    logger.info({ rssMiB: Math.round(rss / 2 ** 20), limitMiB: Math.round(limitBytes / 2 ** 20) }, 'RSS over the recycle limit after a job: this worker process exits');
    process.send?.({ recyclingAtRss: rss } satisfies WorkerNews);
    process.kill(process.pid, 'SIGTERM');
    return true;
  };
}

/**
 * In a worker process, as it shuts down (its jobs closed): its metrics, sent to the service,
 * which keeps counting them once the process is gone.
 */
export async function sendLastWords(registry: Registry): Promise<void> {
  const metrics = (await registry.getMetricsAsJSON()) as MetricsJson;
  await new Promise<void>((resolve) => {
    if (!process.connected || process.send === undefined) return resolve();
    process.send({ finalMetrics: metrics } satisfies WorkerNews, () => resolve());
  });
}

/** In a worker process: answers the service's metrics requests with `registry`'s metrics. */
export function answerMetricsRequests(registry: Registry): void {
  process.on('message', (m: unknown) => {
    const id = (m as MetricsRequest | undefined)?.metricsRequest;
    if (typeof id !== 'number') return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ metricsAnswer: id, metrics: metrics as MetricsJson } satisfies MetricsAnswer));
  });
}
