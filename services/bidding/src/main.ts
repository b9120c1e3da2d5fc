import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { adoptEventPartitions, configuredTopicLayout, createKafka, ensureTopics } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry, onShutdown, reportRuntimeSettings, startHealthServer } from '@sigflow/observability';
import { createRedis } from '@sigflow/store';
import { OpsLog } from '@sigflow/ops-log';
import { BiddingService } from './bidding-service.js';

const configured = loadConfig();
const logger = createLogger('bidding', configured.logLevel);
const registry = createMetricsRegistry('bidding');
reportRuntimeSettings(logger, registry, new URL('../package.json', import.meta.url));
const kafka = createKafka(configured.kafka, { clientId: 'sigflow-bidding', log: logger });
const config = await adoptEventPartitions(kafka, configured, logger);
await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), configuredTopicLayout(config.kafka, config.limits.retentionMs));
const redis = createRedis(config.redis);
const service = new BiddingService({ config, redis, kafka, logger, registry });
// Budgets are ops decisions: a store that lost its data gets them back from the ops topic.
const ops = new OpsLog({ config, redis, logger });
// Liveness answers while the store is checked (and restored after a loss); readiness after.
let started = false;
const health = await startHealthServer({ host: config.metricsHost, port: config.bidding.metricsPort, registry, ready: () => started && service.ready() });
await ops.watch();
await service.start();
started = true;
logger.info({ metricsPort: health.port, refreshMs: config.bidding.refreshMs, instance: config.bidding.instanceId }, 'bidding service running');

onShutdown(logger, async () => {
  await service.stop();
  await ops.close();
  await health.close();
  redis.disconnect();
});
