import { loadConfig } from '@sigflow/config';
import { adoptEventPartitions, createKafka, KafkaProbe } from '@sigflow/kafka';
import { createRedis, redisAnswers } from '@sigflow/store';
import { createLogger, createMetricsRegistry, onShutdown, reportRuntimeSettings, startHealthServer } from '@sigflow/observability';
import { OpsLog } from '@sigflow/ops-log';
import { Archiver } from './archiver.js';

const configured = loadConfig();
const logger = createLogger('archiver', configured.logLevel);
const registry = createMetricsRegistry('archiver');
reportRuntimeSettings(logger, registry, new URL('../package.json', import.meta.url));
const kafka = createKafka(configured.kafka, { clientId: 'sigflow-archiver', log: logger });
const config = await adoptEventPartitions(kafka, configured, logger);
const redis = createRedis(config.redis);
const probe = new KafkaProbe(kafka);

const started: { archiver?: Archiver; ops?: OpsLog } = {};
// Health first, so /healthz answers while the consumer joins; /readyz says when it works.
const health = await startHealthServer({
  host: config.metricsHost,
  port: config.archiver.metricsPort,
  registry,
  // Flushes need Redis too (dirty marks, watermarks): a frozen Redis stalls them.
  ready: async () => (started.archiver?.ready() ?? false) && (await probe.reachable()) && (await redisAnswers(redis, 1_000)),
});
// Stopping is possible from here on, also while the consumer joins or the ops log is read.
onShutdown(logger, async () => {
  await started.archiver?.stop();
  await started.ops?.close();
  await health.close();
  await probe.close();
  redis.disconnect();
});
started.archiver = await Archiver.start({ config, redis, logger, registry });
// Tombstones are kept in the ops topic too: a store that lost its data gets them back.
started.ops = new OpsLog({ config, redis, logger, onStoreLoss: [async () => started.archiver?.reloadTombstones()] });
await started.ops.watch();
logger.info({ archive: started.archiver.location, port: health.port }, 'archiver running');
