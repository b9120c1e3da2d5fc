import cluster from 'node:cluster';
import { loadConfig } from '@sigflow/config';
import { createLogger, onShutdown } from '@sigflow/observability';
import { runPrimary, stopMessage } from './cluster.js';
import { startServer } from './server.js';

const config = loadConfig();
const logger = createLogger('collector', config.logLevel);

if (cluster.isPrimary && config.collector.processes > 1) {
  onShutdown(logger, await runPrimary(config, logger));
} else {
  const stopServer = await startServer(config, logger);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stopServer());
  onShutdown(logger, stop);
  if (cluster.isWorker) {
    // Asked by the primary, or the primary is gone: finish the requests in hand and exit.
    const exit = () => void stop().then(() => process.exit(0), () => process.exit(1));
    process.on('message', (message) => {
      if (message === stopMessage) exit();
    });
    process.once('disconnect', exit);
  }
}
