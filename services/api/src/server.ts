import cluster from 'node:cluster';
import type { SigflowConfig } from '@sigflow/config';
import { createRedis } from '@sigflow/store';
import { openBatchQueue, restoreSchedules } from '@sigflow/batch-jobs';
import { OpsLog } from '@sigflow/ops-log';
import { createKafka } from '@sigflow/kafka';
import { clusterMetricsText, createMetricsRegistry, type Logger } from '@sigflow/observability';
import { buildApi } from './app.js';
import { requestRedisOptions } from './redis-connections.js';

/**
 * Runs one API server on the configured port (shared with the other workers under
 * `node:cluster`) with its own Redis connections and queue handle. Returns the shutdown.
 */
export async function startServer(config: SigflowConfig, logger: Logger): Promise<() => Promise<void>> {
  const redis = createRedis(config.redis, requestRedisOptions(config));
  // Analyst reads get their own connection: a day of windows is a multi-megabyte reply.
  const analyticsRedis = createRedis(config.redis, { commandTimeout: config.api.redisTimeoutMs });
  // BullMQ gets its own connection (no auto-pipelining, its own retry behaviour), with the same
  // command timeout: job routes answer 503 instead of hanging while Redis does not answer.
  const queueRedis = createRedis(config.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null, commandTimeout: config.api.redisTimeoutMs });
  const queue = openBatchQueue(config, queueRedis);
  const registry = createMetricsRegistry('api');
  // Admin requests only: a person's export waits until the archiver has caught up.
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-api', log: logger });
  // Ops decisions and tombstones are also kept in the ops topic; a lost store gets them back
  // (and the schedulers ops set: this process has the queue).
  const ops = new OpsLog({ config, redis, logger, onStoreLoss: [async (records) => void (await restoreSchedules(queue, records))] });
  await ops.watch();
  const app = await buildApi({
    ops,
    config,
    redis,
    analyticsRedis,
    queue,
    logger,
    registry,
    kafka,
    ...(cluster.isWorker ? { metricsText: clusterMetricsText(registry) } : {}),
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  logger.info({ port: config.api.port, keys: config.api.apiKeys.size, worker: cluster.worker?.id ?? null }, 'api listening');
  return async () => {
    await app.close();
    await ops.close();
    await queue.close();
    redis.disconnect();
    analyticsRedis.disconnect();
    queueRedis.disconnect();
  };
}
