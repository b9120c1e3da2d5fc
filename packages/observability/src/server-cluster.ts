import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger.js';
import { aggregateWorkerMetrics } from './cluster-metrics.js';

/** The IPC message that asks a worker to finish its requests and exit. */
const stopMessage = 'sigflow:server-stop';

/** Settings of a {@link ServerCluster}. */
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

/**
 * Stops a worker: one that listens is asked to finish its requests and exit; one still starting
 * has nothing to finish and gets SIGTERM. Killed after `graceMs` either way.
 */
async function stopWorker(worker: Worker, listening: boolean, graceMs: number): Promise<void> {
  if (worker.isDead()) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  if (listening) worker.send(stopMessage);
  else worker.process.kill('SIGTERM');
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The primary of an HTTP service run as several processes on one port (`node:cluster` hands
 * out connections): {@link start} forks `processes` workers and waits until each listens,
 * answers their `/metrics` with the sum over the workers that listen ({@link clusterMetricsText}),
 * and replaces a worker that dies (more than `maxRestartsPerMinute` deaths in a minute end the
 * primary). {@link stop} ends every worker at any moment: hand it to the shutdown handler before
 * starting, so a signal during start-up stops what started instead of killing the primary
 * alone. Workers call {@link serveAsClusterWorker}.
 */
export class ServerCluster {
  private stopping = false;
  private readonly listening = new Set<Worker>();
  private readonly exits: number[] = [];

  constructor(private readonly options: ServerClusterOptions) {}

  /** Forks the workers; resolves once each listens (or once the cluster was stopped meanwhile). */
  async start(): Promise<void> {
    const { name, processes, logger } = this.options;
    aggregateWorkerMetrics(() => this.listening);
    cluster.on('listening', (worker) => this.listening.add(worker));
    cluster.on('exit', (worker) => this.listening.delete(worker));
    try {
      await Promise.all(Array.from({ length: processes }, () => this.forkListening()));
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.stopping) return;
    cluster.on('exit', (worker, code, signal) => this.replace(worker, code, signal));
    logger.info({ processes }, `${name} cluster started`);
  }

  /** Every worker finishes its requests and exits; those still starting are ended. */
  readonly stop = async (): Promise<void> => {
    this.stopping = true;
    const graceMs = this.options.stopGraceMs ?? 10_000;
    await Promise.all(Object.values(cluster.workers ?? {}).map((w) => (w ? stopWorker(w, this.listening.has(w), graceMs) : undefined)));
  };

  private forkListening(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = cluster.fork(this.options.env);
      const failed = (code: number | null) => (this.stopping ? resolve() : reject(new Error(`a ${this.options.name} worker exited with ${code} during start-up`)));
      worker.once('exit', failed);
      worker.once('listening', () => {
        worker.off('exit', failed);
        resolve();
      });
    });
  }

  /** A worker died: forks another, unless the primary is stopping or they keep dying. */
  private replace(worker: Worker, code: number | null, signal: string | null): void {
    if (this.stopping) return;
    const { name, logger } = this.options;
    const now = Date.now();
    this.exits.push(now);
    while ((this.exits[0] as number) < now - 60_000) this.exits.shift();
    logger.error({ worker: worker.id, code, signal }, `${name} worker died`);
    if (this.exits.length > (this.options.maxRestartsPerMinute ?? 5)) {
      logger.error(`${name} workers keep dying; stopping`);
      process.kill(process.pid, 'SIGTERM');
      return;
    }
    cluster.fork(this.options.env);
  }
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
