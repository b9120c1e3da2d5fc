import { randomBytes } from 'node:crypto';
import { loadConfig, type Role, type SigflowConfig } from '@sigflow/config';
import { createRedis } from '@sigflow/store';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { createLogger, onShutdown } from '@sigflow/observability';
import { buildApi } from './app.js';

const loaded = loadConfig();
const logger = createLogger('api', loaded.logLevel);

// Without configured keys the API is not left open: it makes one ops key for this process and
// logs the dashboard address with it (development; production sets SIGFLOW_API_KEYS).
let config: SigflowConfig = loaded;
let devKey: string | null = null;
if (loaded.api.apiKeys.size === 0) {
  devKey = randomBytes(18).toString('base64url');
  config = { ...loaded, api: { ...loaded.api, apiKeys: new Map<string, Role>([[devKey, 'ops']]) } };
}

// A command that gets no answer within the timeout fails (503), so a request never hangs on Redis.
const redis = createRedis(config.redis, { commandTimeout: config.api.redisTimeoutMs });
// Analyst reads get their own connection: a day of windows is a multi-megabyte reply.
const analyticsRedis = createRedis(config.redis, { commandTimeout: config.api.redisTimeoutMs });
// BullMQ gets its own connection (no auto-pipelining, its own retry behaviour).
// The same command timeout: job routes answer 503 instead of hanging while Redis does not answer.
const queueRedis = createRedis(config.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null, commandTimeout: config.api.redisTimeoutMs });
const queue = openBatchQueue(config, queueRedis);
const app = await buildApi({ config, redis, analyticsRedis, queue, logger });
await app.listen({ host: config.api.host, port: config.api.port });
const base = `http://${config.api.host}:${config.api.port}`;
logger.info({ port: config.api.port, keys: config.api.apiKeys.size }, 'api listening');
if (devKey) {
  logger.warn(`SIGFLOW_API_KEYS is empty: generated an ops key for this process. Dashboard: ${base}/#key=${devKey}`);
}

onShutdown(logger, async () => {
  await app.close();
  await queue.close();
  redis.disconnect();
  analyticsRedis.disconnect();
  queueRedis.disconnect();
});
