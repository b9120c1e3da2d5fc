import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger.js';
import { aggregateWorkerMetrics } from './cluster-metrics.js';

/** The IPC message that asks a worker to finish its requests and exit. */
const stopMessage = 'sigflow:server-stop';

/** Settings of {@link runServerCluster}. */
export interface ServerClusterOptions {
  /** Service name, for logs. */
  readonly name: string;
  /** Worker processes sharing the port. */
  readonly processes: number;
  readonly logger: Logger;
  /** Extra environment for the workers (e.g. a key the primary generated). */
  readonly env?: Readonly<Record<string, string>>;
  /** Unexpected worker exits tolerated per minute before the primary gives up. Default 5. */
  readonly maxRestartsPerMinute?: number;
  /** How long a worker may take to finish its requests on shutdown before it is killed. Default 10 s. */
  readonly stopGraceMs?: number;
}

function forkListening(name: string, env: Readonly<Record<string, string>> | undefined): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork(env);
    const failed = (code: number | null) => reject(new Error(`a ${name} worker exited with ${code} during start-up`));
    worker.once('exit', failed);
    worker.once('listening', () => {
      worker.off('exit', failed);
      resolve(worker);
    });
  });
}

async function stopWorker(worker: Worker, graceMs: number): Promise<void> {
  if (worker.isDead()) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.send(stopMessage);
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The primary of an HTTP service run as several processes on one port (`node:cluster` hands
 * out connections): forks `processes` workers and waits until each listens, answers their
 * `/metrics` with the sum over all of them ({@link clusterMetricsText}), and replaces a worker
 * that dies (more than `maxRestartsPerMinute` deaths in a minute end the primary). Returns the
 * shutdown: every worker finishes its requests and exits. Workers call {@link serveAsClusterWorker}.
 */
export async function runServerCluster(options: ServerClusterOptions): Promise<() => Promise<void>> {
  const { name, processes, logger, env } = options;
  const maxRestarts = options.maxRestartsPerMinute ?? 5;
  const graceMs = options.stopGraceMs ?? 10_000;
  aggregateWorkerMetrics();
  let stopping = false;
  const stopAll = () => Promise.all(Object.values(cluster.workers ?? {}).map((w) => (w ? stopWorker(w, graceMs) : undefined)));
  try {
    await Promise.all(Array.from({ length: processes }, () => forkListening(name, env)));
  } catch (err) {
    stopping = true;
    await stopAll();
    throw err;
  }
  const exits: number[] = [];
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    exits.push(now);
    while ((exits[0] as number) < now - 60_000) exits.shift();
    logger.error({ worker: worker.id, code, signal }, `${name} worker died`);
    if (exits.length > maxRestarts) {
      logger.error(`${name} workers keep dying; stopping`);
      process.kill(process.pid, 'SIGTERM');
      return;
    }
    cluster.fork(env);
  });
  logger.info({ processes }, `${name} cluster started`);
  return async () => {
    stopping = true;
    await stopAll();
  };
}

/**
 * In a cluster worker: runs `stop` and exits when the primary asks (shutdown) or is gone.
 * Returns `stop` made idempotent, for the worker's own signal handlers.
 */
export function serveAsClusterWorker(stop: () => Promise<void>): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  const once = () => (stopped ??= stop());
  const exit = () => void once().then(() => process.exit(0), () => process.exit(1));
  process.on('message', (message) => {
    if (message === stopMessage) exit();
  });
  process.once('disconnect', exit);
  return once;
}
