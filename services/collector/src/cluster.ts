import cluster, { type Worker } from 'node:cluster';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, ensureTopics } from '@sigflow/kafka';
import type { Logger } from '@sigflow/observability';
import { aggregateWorkerMetrics } from './cluster-metrics.js';

/** The IPC message that asks a worker to finish its requests and exit. */
export const stopMessage = 'sigflow:collector-stop';

/** Unexpected worker exits tolerated per minute before the primary gives up. */
const maxRestartsPerMinute = 5;
/** How long a worker may take to finish its requests on shutdown before it is killed. */
const stopGraceMs = 10_000;

function forkListening(): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork();
    const failed = (code: number | null) => reject(new Error(`a collector worker exited with ${code} during start-up`));
    worker.once('exit', failed);
    worker.once('listening', () => {
      worker.off('exit', failed);
      resolve(worker);
    });
  });
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.send(stopMessage);
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), stopGraceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The primary of a collector cluster (`collector.processes` > 1): creates the topics, forks
 * one server per process on the shared port (`node:cluster` hands out connections), answers
 * their `/metrics` with the sum over all of them, and replaces a worker that dies (more than
 * 5 deaths in a minute end the primary). Returns the shutdown: every worker finishes its
 * requests and exits.
 */
export async function runPrimary(config: SigflowConfig, logger: Logger): Promise<() => Promise<void>> {
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-collector', log: logger });
  await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), { eventPartitions: config.kafka.eventPartitions });
  aggregateWorkerMetrics();
  let stopping = false;
  const stopAll = () => Promise.all(Object.values(cluster.workers ?? {}).map((w) => (w ? stopWorker(w) : undefined)));
  try {
    await Promise.all(Array.from({ length: config.collector.processes }, forkListening));
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
    logger.error({ worker: worker.id, code, signal }, 'collector worker died');
    if (exits.length > maxRestartsPerMinute) {
      logger.error('collector workers keep dying; stopping');
      process.kill(process.pid, 'SIGTERM');
      return;
    }
    cluster.fork();
  });
  logger.info({ processes: config.collector.processes, port: config.collector.port }, 'collector cluster started');
  return async () => {
    stopping = true;
    await stopAll();
  };
}
