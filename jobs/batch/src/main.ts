import { fileURLToPath } from 'node:url';
import { loadConfig } from '@sigflow/config';
import { adoptEventPartitions, createKafka } from '@sigflow/kafka';
import { createRedis, redisAnswers } from '@sigflow/store';
import { createLogger, createMetricsRegistry, onShutdown, reportRuntimeSettings, startHealthServer } from '@sigflow/observability';
import { installSchedulers, openBatchQueue } from '@sigflow/batch-jobs';
import { OpsLog } from '@sigflow/ops-log';
import { openBatchContext } from './batch-context.js';
import { recoverBatchStore } from './store-loss.js';
import { startBatchWorker } from './batch-worker.js';
import { lowerCpuPriority } from './cpu-priority.js';
import { answerMetricsRequests, exitWithParent, serviceMetrics, startWorkerProcesses, workerIndex, type WorkerProcesses } from './worker-processes.js';

const configured = loadConfig();
const logger = createLogger('batch', configured.logLevel);
lowerCpuPriority(configured.batch.nice, logger);
// Corrections and erasures reach the speed layer's keys by partition: the events topic's count.
const config = await adoptEventPartitions(createKafka(configured.kafka, { clientId: 'sigflow-batch', log: logger }), configured, logger);
const index = workerIndex();
if (index > 0) exitWithParent(logger);
const registry = createMetricsRegistry('batch');
reportRuntimeSettings(logger, registry, new URL('../package.json', import.meta.url));
const redis = createRedis(config.redis);
// The service (index 0) installs the schedulers and starts `batch.workers - 1` more worker
// processes of this script; they take jobs and parts of jobs from the same queue. It also
// watches the store: after a loss it restores the schedulers and has every archived hour
// recomputed (store-loss.ts).
const queue = openBatchQueue(config);
const ops = new OpsLog({ config, redis, logger, onStoreLoss: index === 0 ? [async (records) => logger.warn({ hoursMarkedDirty: await recoverBatchStore(context, queue, records) }, 'batch views will be recomputed')] : [] });
// The health server answers first: liveness while the steps below run (on a loaded host they
// have taken over 30 s), readiness once the worker runs.
const started: { worker?: ReturnType<typeof startBatchWorker> } = {};
let extraWorkers: WorkerProcesses | undefined;
const health = await startHealthServer({
  host: config.metricsHost,
  port: config.batch.metricsPort,
  registry: index === 0 ? serviceMetrics(registry, () => extraWorkers) : registry,
  ready: async () => started.worker !== undefined && started.worker.worker.isRunning() && (await redisAnswers(redis, 1_000)),
});
const context = await openBatchContext(config, redis, ops, logger);
if (index === 0) {
  await installSchedulers(queue, config);
  await ops.watch();
}
started.worker = startBatchWorker({ context, registry, logger, queue });
if (index === 0) extraWorkers = startWorkerProcesses(fileURLToPath(import.meta.url), config.batch.workers - 1, logger);
else answerMetricsRequests(registry);
logger.info(
  { worker: index, workers: config.batch.workers, queue: config.batch.queueName, recomputeEvery: config.batch.recomputeEvery, retrainEvery: config.batch.retrainEvery, archive: context.archive.location, port: health.port },
  'batch worker running',
);

onShutdown(logger, async () => {
  await extraWorkers?.stop();
  await started.worker?.close();
  await context.archive.close();
  await queue.close();
  await ops.close();
  await health.close();
  redis.disconnect();
});
