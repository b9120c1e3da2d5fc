import { loadConfig } from '@sigflow/config';
import { createLogger, createMetricsRegistry, onShutdown, reportRuntimeSettings, startHealthServer } from '@sigflow/observability';
import { createRedis } from '@sigflow/store';
import { OpsLog } from '@sigflow/ops-log';
import { AlertsService } from './alerts-service.js';

const config = loadConfig();
const logger = createLogger('alerts', config.logLevel);
const registry = createMetricsRegistry('alerts');
reportRuntimeSettings(logger, registry, new URL('../package.json', import.meta.url));
const redis = createRedis(config.redis);
const service = new AlertsService({ config, redis, logger, registry });
// Alert rules are ops decisions: a store that lost its data gets them back from the ops topic.
const ops = new OpsLog({ config, redis, logger });
// Liveness answers while the store is checked (and restored after a loss); readiness after.
let started = false;
const health = await startHealthServer({ host: config.metricsHost, port: config.alerts.metricsPort, registry, ready: () => started && service.ready() });
await ops.watch();
service.start();
started = true;
logger.info({ metricsPort: health.port, pollMs: config.alerts.pollMs, queue: config.alerts.queueName, webhookAllow: config.alerts.webhookAllow }, 'alerts service running');

onShutdown(logger, async () => {
  await service.stop();
  await ops.close();
  await health.close();
  redis.disconnect();
});
