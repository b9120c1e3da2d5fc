import { loadConfig } from '@sigflow/config';
import { createKafka, KafkaProbe } from '@sigflow/kafka';
import { createRedis, redisAnswers } from '@sigflow/store';
import { createLogger, createMetricsRegistry, onShutdown, startHealthServer } from '@sigflow/observability';
import { Archiver } from './archiver.js';

const config = loadConfig();
const logger = createLogger('archiver', config.logLevel);
const registry = createMetricsRegistry('archiver');
const kafka = createKafka(config.kafka, { clientId: 'sigflow-archiver', log: logger });
const redis = createRedis(config.redis);
const probe = new KafkaProbe(kafka);

const started: { archiver?: Archiver } = {};
// Health first, so /healthz answers while the consumer joins; /readyz says when it works.
const health = await startHealthServer({
  host: config.metricsHost,
  port: config.archiver.metricsPort,
  registry,
  // Flushes need Redis too (dirty marks, watermarks): a frozen Redis stalls them.
  ready: async () => (started.archiver?.ready() ?? false) && (await probe.reachable()) && (await redisAnswers(redis, 1_000)),
});
started.archiver = await Archiver.start({ config, redis, logger, registry });
logger.info({ dir: config.archiver.dir, port: health.port }, 'archiver running');

onShutdown(logger, async () => {
  await started.archiver?.stop();
  await health.close();
  await probe.close();
  redis.disconnect();
});
