import cluster from 'node:cluster';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { configuredTopicLayout, createKafka, ensureTopics, EventProducer, KafkaProbe } from '@sigflow/kafka';
import { clusterMetricsText, createMetricsRegistry, type Logger } from '@sigflow/observability';
import { TombstoneSet } from '@sigflow/privacy';
import { createRedis, StoreKeys } from '@sigflow/store';
import { OpsLog } from '@sigflow/ops-log';
import { buildCollector } from './app.js';

/**
 * Runs one collector server: its own idempotent producer, readiness probe and HTTP app on the
 * configured port (shared with the other workers under `node:cluster`). Creates the topics
 * unless it is a cluster worker (the primary did). Returns the shutdown.
 */
export async function startServer(config: SigflowConfig, logger: Logger): Promise<() => Promise<void>> {
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-collector', log: logger });
  const topics = topicsFor(config.kafka.topicPrefix);
  if (!cluster.isWorker) await ensureTopics(kafka, topics, configuredTopicLayout(config.kafka, config.limits.retentionMs));

  const producer = new EventProducer(kafka, topics.events, { timeoutMs: config.collector.produceTimeoutMs });
  // Refused Segment messages are kept, with their reason, in the dead-letter topic.
  const deadLetters = new EventProducer(kafka, topics.deadLetters, { clientId: 'sigflow-collector-dlq', timeoutMs: config.collector.produceTimeoutMs });
  await Promise.all([producer.connect(), deadLetters.connect()]);
  const probe = new KafkaProbe(kafka);
  const registry = createMetricsRegistry('collector');
  // Deleted people's events are refused. Redis is read for tombstones only: while it does not
  // answer, the collector keeps the set it has (the speed layer and archiver drop them too).
  const redis = createRedis(config.redis, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
  const tombstones = new TombstoneSet(redis, new StoreKeys(config.redis.keyPrefix), config.privacy.salt);
  const warn = (err: unknown) => logger.warn({ err }, 'reading tombstones failed; keeping the ones known');
  await tombstones.refresh().catch(warn);
  tombstones.start(config.privacy.refreshMs, warn);
  // A store that lost its data gets its tombstones back from the ops topic, at their old times.
  const ops = new OpsLog({ config, redis, logger, onStoreLoss: [async () => void (await tombstones.reload())] });
  await ops.watch();
  const app = await buildCollector({
    config,
    sink: producer,
    deadLetters,
    kafkaReady: () => probe.reachable(),
    logger,
    registry,
    tombstones,
    ...(cluster.isWorker ? { metricsText: clusterMetricsText(registry) } : {}),
  });
  await app.listen({ host: config.collector.host, port: config.collector.port });
  logger.info({ topic: topics.events, port: config.collector.port, worker: cluster.worker?.id ?? null }, 'collector listening');
  return async () => {
    await app.close();
    await Promise.all([producer.disconnect(), deadLetters.disconnect()]);
    await probe.close();
    await ops.close();
    tombstones.stop();
    redis.disconnect();
  };
}
