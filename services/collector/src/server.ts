import cluster from 'node:cluster';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, ensureTopics, IngestProducer, KafkaProbe } from '@sigflow/kafka';
import { createMetricsRegistry, type Logger } from '@sigflow/observability';
import { buildCollector } from './app.js';
import { clusterMetricsText } from './cluster-metrics.js';

/**
 * Runs one collector server: its own idempotent producer, readiness probe and HTTP app on the
 * configured port (shared with the other workers under `node:cluster`). Creates the topics
 * unless it is a cluster worker (the primary did). Returns the shutdown.
 */
export async function startServer(config: SigflowConfig, logger: Logger): Promise<() => Promise<void>> {
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-collector', log: logger });
  const topics = topicsFor(config.kafka.topicPrefix);
  if (!cluster.isWorker) await ensureTopics(kafka, topics, { eventPartitions: config.kafka.eventPartitions });

  const producer = new IngestProducer({
    brokers: config.kafka.brokers,
    clientId: 'sigflow-collector',
    topic: topics.events,
    timeoutMs: config.collector.produceTimeoutMs,
    connectTimeoutMs: config.kafka.connectionTimeoutMs,
  });
  await producer.connect();
  const probe = new KafkaProbe(kafka);
  const registry = createMetricsRegistry('collector');
  const app = await buildCollector({
    config,
    sink: producer,
    kafkaReady: () => probe.reachable(),
    logger,
    registry,
    ...(cluster.isWorker ? { metricsText: clusterMetricsText(registry) } : {}),
  });
  await app.listen({ host: config.collector.host, port: config.collector.port });
  logger.info({ topic: topics.events, port: config.collector.port, worker: cluster.worker?.id ?? null }, 'collector listening');
  return async () => {
    await app.close();
    await producer.disconnect();
    await probe.close();
  };
}
