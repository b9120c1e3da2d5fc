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
import { announceReady, answerMetricsRequests, exitWithParent, recycleAfterJob, sendLastWords, serviceMetrics, startWorkerProcesses, workerIndex, type WorkerProcesses } from './worker-processes.js';

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
// The service (index 0) installs the schedulers and starts `batch.workers` worker processes of
// this script, which take jobs and parts of jobs from the queue; it runs none itself, so that a
// worker can exit when a job left it holding too much memory (`batch.workerRecycleBytes`) and be
// replaced. It also watches the store: after a loss it restores the schedulers and has every
// archived hour recomputed (store-loss.ts).
const queue = openBatchQueue(config);
const ops = new OpsLog({ config, redis, logger, onStoreLoss: index === 0 ? [async (records) => logger.warn({ hoursMarkedDirty: await recoverBatchStore(context, queue, records) }, 'batch views will be recomputed')] : [] });
// The health server answers first: liveness while the steps below run (on a loaded host they
// have taken over 30 s), readiness once a worker takes jobs.
const started: { worker?: ReturnType<typeof startBatchWorker> } = {};
let workers: WorkerProcesses | undefined;
const takesJobs = () => (index === 0 ? workers?.ready() === true : started.worker?.worker.isRunning() === true);
const health = await startHealthServer({
  host: config.metricsHost,
  port: config.batch.metricsPort,
  registry: index === 0 ? serviceMetrics(registry, () => workers) : registry,
  ready: async () => takesJobs() && (await redisAnswers(redis, 1_000)),
});
const context = await openBatchContext(config, redis, ops, logger);
if (index === 0) {
  await installSchedulers(queue, config);
  await ops.watch();
  workers = startWorkerProcesses(fileURLToPath(import.meta.url), config.batch.workers, logger, registry);
} else {
  started.worker = startBatchWorker({ context, registry, logger, queue, afterJob: recycleAfterJob(config.batch.workerRecycleBytes, logger) });
  answerMetricsRequests(registry);
  announceReady();
}
logger.info(
  { worker: index, workers: config.batch.workers, queue: config.batch.queueName, recomputeEvery: config.batch.recomputeEvery, retrainEvery: config.batch.retrainEvery, archive: context.archive.location, port: health.port },
  index === 0 ? 'batch service running' : 'batch worker running',
);

onShutdown(logger, async () => {
  await workers?.stop();
  await started.worker?.close();
  if (index > 0) await sendLastWords(registry);
  await context.archive.close();
  await queue.close();
  await ops.close();
  await health.close();
  redis.disconnect();
});
