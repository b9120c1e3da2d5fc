import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { adoptEventPartitions, configuredTopicLayout, createKafka, ensureTopics } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry, onShutdown, reportRuntimeSettings, startHealthServer } from '@sigflow/observability';
import { createRedis } from '@sigflow/store';
import { SpeedLayer } from './speed-layer.js';

const configured = loadConfig();
const logger = createLogger('speed', configured.logLevel);
const registry = createMetricsRegistry('speed');
reportRuntimeSettings(logger, registry, new URL('../package.json', import.meta.url));
const kafka = createKafka(configured.kafka, { clientId: 'sigflow-speed', log: logger });
const config = await adoptEventPartitions(kafka, configured, logger);
await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), configuredTopicLayout(config.kafka, config.limits.retentionMs));
const redis = createRedis(config.redis);
const speed = new SpeedLayer({ config, kafka, redis, logger, registry });
const health = await startHealthServer({ host: config.metricsHost, port: config.speed.metricsPort, registry, ready: () => speed.ready() });
await speed.start();
logger.info({ metricsPort: health.port, group: config.speed.groupId }, 'speed layer consuming');

onShutdown(logger, async () => {
  await speed.stop();
  await health.close();
  redis.disconnect();
});
