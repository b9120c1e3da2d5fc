import { loadConfig } from '@sigflow/config';
import { createRedis, redisAnswers } from '@sigflow/store';
import { createLogger, createMetricsRegistry, onShutdown, startHealthServer } from '@sigflow/observability';
import { installSchedulers, openBatchQueue } from '@sigflow/batch-jobs';
import { createBatchContext } from './batch-context.js';
import { startBatchWorker } from './batch-worker.js';

const config = loadConfig();
const logger = createLogger('batch', config.logLevel);
const registry = createMetricsRegistry('batch');
const redis = createRedis(config.redis);
const context = createBatchContext(config, redis);

const queue = openBatchQueue(config);
await installSchedulers(queue, config);
const worker = startBatchWorker({ context, registry, logger, queue });
const health = await startHealthServer({
  host: config.metricsHost,
  port: config.batch.metricsPort,
  registry,
  ready: async () => worker.worker.isRunning() && (await redisAnswers(redis, 1_000)),
});
logger.info(
  { queue: config.batch.queueName, recomputeEvery: config.batch.recomputeEvery, retrainEvery: config.batch.retrainEvery, archive: context.root, port: health.port },
  'batch worker running',
);

onShutdown(logger, async () => {
  await worker.close();
  await queue.close();
  await health.close();
  redis.disconnect();
});
