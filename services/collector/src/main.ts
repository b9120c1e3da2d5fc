import cluster from 'node:cluster';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { adoptEventPartitions, configuredTopicLayout, createKafka, ensureTopics } from '@sigflow/kafka';
import { createLogger, onShutdown, reportRuntimeSettings, ServerCluster, serveAsClusterWorker } from '@sigflow/observability';

const configured = loadConfig();
const logger = createLogger('collector', configured.logLevel);
// The topics are created with the configured count; an existing one keeps its own.
const config = await adoptEventPartitions(createKafka(configured.kafka, { clientId: 'sigflow-collector', log: logger }), configured, logger);
if (cluster.isPrimary) reportRuntimeSettings(logger, null, new URL('../package.json', import.meta.url));

if (cluster.isPrimary && config.collector.processes > 1) {
  // The primary creates the topics once; each worker runs a server with its own producer. A
  // signal from here on stops whatever started.
  const servers = new ServerCluster({ name: 'collector', processes: config.collector.processes, logger });
  onShutdown(logger, servers.stop);
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-collector', log: logger });
  await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), configuredTopicLayout(config.kafka, config.limits.retentionMs));
  await servers.start();
} else {
  // Imported here: a cluster primary does not serve, and loading the server's modules cost it
  // as much CPU as a worker's start (2 of 6.3 CPU-seconds for a collector of 2 workers).
  const { startServer } = await import('./server.js');
  const stopServer = await startServer(config, logger);
  onShutdown(logger, cluster.isWorker ? serveAsClusterWorker(stopServer) : stopServer);
}
