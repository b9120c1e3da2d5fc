import { loadConfig } from '@sigflow/config';
import { adoptEventPartitions, createKafka } from '@sigflow/kafka';
import { createLogger, createMetricsRegistry, onShutdown, reportRuntimeSettings, startHealthServer } from '@sigflow/observability';
import { createRedis } from '@sigflow/store';
import { OpsLog } from '@sigflow/ops-log';
import { AlertsService } from './alerts-service.js';

const configured = loadConfig();
const logger = createLogger('alerts', configured.logLevel);
// Alert windows are read from every partition's keys: the events topic's count.
const config = await adoptEventPartitions(createKafka(configured.kafka, { clientId: 'sigflow-alerts', log: logger }), configured, logger);
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
