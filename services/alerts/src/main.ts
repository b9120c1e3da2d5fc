import { loadConfig } from '@sigflow/config';
import { createLogger, createMetricsRegistry, onShutdown, startHealthServer } from '@sigflow/observability';
import { createRedis } from '@sigflow/store';
import { AlertsService } from './alerts-service.js';

const config = loadConfig();
const logger = createLogger('alerts', config.logLevel);
const registry = createMetricsRegistry('alerts');
const redis = createRedis(config.redis);
const service = new AlertsService({ config, redis, logger, registry });
const health = await startHealthServer({ host: config.metricsHost, port: config.alerts.metricsPort, registry, ready: () => service.ready() });
service.start();
logger.info({ metricsPort: health.port, pollMs: config.alerts.pollMs, queue: config.alerts.queueName, webhookAllow: config.alerts.webhookAllow }, 'alerts service running');

onShutdown(logger, async () => {
  await service.stop();
  await health.close();
  redis.disconnect();
});
