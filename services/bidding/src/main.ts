import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { configuredTopicLayout, createKafka, ensureTopics } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry, onShutdown, startHealthServer } from '@sigflow/observability';
import { createRedis } from '@sigflow/store';
import { BiddingService } from './bidding-service.js';

const config = loadConfig();
const logger = createLogger('bidding', config.logLevel);
const registry = createMetricsRegistry('bidding');
const kafka = createKafka(config.kafka, { clientId: 'sigflow-bidding', log: logger });
await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), configuredTopicLayout(config.kafka, config.limits.retentionMs));
const redis = createRedis(config.redis);
const service = new BiddingService({ config, redis, kafka, logger, registry });
const health = await startHealthServer({ host: config.metricsHost, port: config.bidding.metricsPort, registry, ready: () => service.ready() });
await service.start();
logger.info({ metricsPort: health.port, refreshMs: config.bidding.refreshMs, instance: config.bidding.instanceId }, 'bidding service running');

onShutdown(logger, async () => {
  await service.stop();
  await health.close();
  redis.disconnect();
});
