import { fileURLToPath } from 'node:url';
import { loadConfig } from '@sigflow/config';
import { createRedis, redisAnswers } from '@sigflow/store';
import { createLogger, createMetricsRegistry, onShutdown, startHealthServer } from '@sigflow/observability';
import { installSchedulers, openBatchQueue } from '@sigflow/batch-jobs';
import { createBatchContext } from './batch-context.js';
import { startBatchWorker } from './batch-worker.js';
import { answerMetricsRequests, exitWithParent, serviceMetrics, startWorkerProcesses, workerIndex, type WorkerProcesses } from './worker-processes.js';

const config = loadConfig();
const logger = createLogger('batch', config.logLevel);
const index = workerIndex();
if (index > 0) exitWithParent(logger);
const registry = createMetricsRegistry('batch');
const redis = createRedis(config.redis);
const context = createBatchContext(config, redis);

// The service (index 0) installs the schedulers and starts `batch.workers - 1` more worker
// processes of this script; they take jobs and parts of jobs from the same queue.
const queue = openBatchQueue(config);
if (index === 0) await installSchedulers(queue, config);
const worker = startBatchWorker({ context, registry, logger, queue });
let extraWorkers: WorkerProcesses | undefined;
const health = await startHealthServer({
  host: config.metricsHost,
  port: config.batch.metricsPort,
  registry: index === 0 ? serviceMetrics(registry, () => extraWorkers) : registry,
  ready: async () => worker.worker.isRunning() && (await redisAnswers(redis, 1_000)),
});
if (index === 0) extraWorkers = startWorkerProcesses(fileURLToPath(import.meta.url), config.batch.workers - 1, logger);
else answerMetricsRequests(registry);
logger.info(
  { worker: index, workers: config.batch.workers, queue: config.batch.queueName, recomputeEvery: config.batch.recomputeEvery, retrainEvery: config.batch.retrainEvery, archive: context.root, port: health.port },
  'batch worker running',
);

onShutdown(logger, async () => {
  await extraWorkers?.stop();
  await worker.close();
  await queue.close();
  await health.close();
  redis.disconnect();
});
