import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { type RedisClient, StoreKeys } from '@sigflow/store';
import { BiddingAnswerCache } from '@sigflow/store/bidding';
import { ClosedHourCache } from '@sigflow/store/views';
import { noOpsRecorder, type OpsRecorder } from '@sigflow/ops-log';
import type { Queue } from 'bullmq';
import type { KafkaClient } from '@sigflow/kafka';
import type { Registry } from 'prom-client';
import type { SigflowConfig } from '@sigflow/config';
import { openArchiveStorage, type ArchiveStorage } from '@sigflow/archive';
import { createMetricsRegistry, type Logger } from '@sigflow/observability';
import { KeyRing } from './auth/api-keys.js';
import { credentialOf, installAuth } from './auth/auth-hooks.js';
import { biddingCacheMetrics, installRequestMetrics } from './api-metrics.js';
import type { ApiContext, RoutePlugin } from './context.js';
import { BadParameterError } from './errors.js';
import { handleError } from './http/error-handler.js';
import { installExactBodyTypes } from './http/exact-body-types.js';
import { biddingFastPath } from './http/bidding-fast-path.js';
import type { FastPath } from './http/fast-path.js';
import { signalsFastPath } from './http/signals-fast-path.js';
import { RequestWindows } from './http/request-windows.js';
import { userRoutes } from './routes/users-routes.js';
import { campaignRoutes } from './routes/campaign-routes.js';
import { attributionRoutes } from './routes/attribution-routes.js';
import { reconciliationRoutes } from './routes/reconciliation-routes.js';
import { pageRoutes } from './routes/page-routes.js';
import { statusRoutes } from './routes/status-routes.js';
import { exportRoutes } from './routes/export-routes.js';
import { jobRoutes } from './routes/jobs-routes.js';
import { jobControlRoutes } from './routes/job-control-routes.js';
import { shapleyRoutes } from './routes/shapley-routes.js';
import { markovRoutes } from './routes/markov-routes.js';
import { eventCountRoutes } from './routes/event-count-routes.js';
import { scheduleRoutes } from './routes/schedule-routes.js';
import { budgetRoutes } from './routes/budget-routes.js';
import { biddingRoutes } from './routes/bidding-routes.js';
import { privacyRoutes } from './routes/privacy-routes.js';
import { segmentRoutes } from './routes/segment-routes.js';
import { alertRoutes } from './routes/alert-routes.js';
import { sqlRoutes } from './routes/sql-routes.js';
import { registerOpsBoard } from './routes/ops-board.js';
import { registerDashboardRoutes } from './routes/dashboard-routes.js';

export interface ApiDeps {
  readonly config: SigflowConfig;
  /** Signals, profiles and small reads (the server opens it with `requestRedisOptions`). */
  readonly redis: RedisClient;
  /**
   * Analyst reads (multi-megabyte replies for a day of windows); a connection of their own keeps
   * them from delaying the recommendation hot path's replies. Defaults to `redis`.
   */
  readonly analyticsRedis?: RedisClient;
  /** The batch layer's BullMQ queue, opened with `openBatchQueue` of `@sigflow/batch-jobs`. */
  readonly queue: Queue;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** The clock (tests pin it). */
  readonly now?: () => number;
  /** Reconciliation campaign-hours per request (each is two hashes per layer); default 20,000. */
  readonly maxCampaignHours?: number;
  /** What `/metrics` serves. Default: this process's registry (a cluster worker serves every worker's). */
  readonly metricsText?: () => Promise<string>;
  /** Kafka (admin): a person's export waits until the archive holds every event Kafka had. */
  readonly kafka?: KafkaClient;
  /**
   * Where ops decisions and tombstones are kept durably (the ops topic: `@sigflow/ops-log`); a
   * change is answered once it is there too. Default: nowhere (unit tests of the routes).
   */
  readonly ops?: OpsRecorder;
  /** The archive (default: the configured storage, opened here and closed with the app). */
  readonly archive?: ArchiveStorage;
}

/** The route groups and their prefixes. */
const routeGroups: readonly (readonly [RoutePlugin, string])[] = [
  [userRoutes, '/v1/users'],
  [campaignRoutes, '/v1/campaigns'],
  [budgetRoutes, '/v1/campaigns'],
  [biddingRoutes, '/v1/bidding'],
  [attributionRoutes, '/v1/attribution'],
  [shapleyRoutes, '/v1/attribution/shapley'],
  [markovRoutes, '/v1/attribution/markov'],
  [eventCountRoutes, '/v1/events/counts'],
  [reconciliationRoutes, '/v1/reconciliation'],
  [pageRoutes, '/v1/pages'],
  [statusRoutes, '/v1/status'],
  [exportRoutes, '/v1/export'],
  [jobRoutes, '/v1/jobs'],
  [jobControlRoutes, '/v1/jobs'],
  [scheduleRoutes, '/v1/schedules'],
  [privacyRoutes, '/v1'],
  [segmentRoutes, '/v1/segments'],
  [alertRoutes, '/v1/alerts'],
  [sqlRoutes, '/v1/sql'],
];

/** Builds the serving API (not listening yet). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const registry = deps.registry ?? createMetricsRegistry('api');
  // Set once the cache and key ring exist; requests arrive only after listen.
  let fastPaths: readonly FastPath[] = [];
  const app = Fastify({
    serverFactory: (handler, options) => httpServer(options, (request, response) => {
      const toFastify = () => handler(request, response);
      for (const fastPath of fastPaths) if (fastPath(request, response, toFastify)) return;
      toFastify();
    }),
    // pino's Logger is a FastifyBaseLogger; the cast keeps fastify's default generics.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Ids are up to 128 characters, percent-encoded up to 3 bytes each: let the schema judge them (400).
    routerOptions: { maxParamLength: 1_024 },
    // Per-request lines would dominate the log at thousands of requests a second; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown parameters are errors (400 naming them), not silently dropped.
    ajv: { customOptions: { allErrors: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installRequestChecks(app);
  installExactBodyTypes(app);
  const requests = installRequestMetrics(app, registry);
  const windows = new RequestWindows();
  await app.register(rateLimit, {
    global: true,
    max: config.api.rateLimitPerMinute,
    timeWindow: rateWindowMs,
    store: windows.asStoreClass(),
    // Per API key (its digest); callers without a key are counted per address.
    keyGenerator: (request) => credentialOf(request).bucket,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`), { statusCode: 429 }),
  });
  const ring = new KeyRing(config.api.apiKeys);
  installAuth(app, ring);
  await registerDocs(app);

  const keys = new StoreKeys(config.redis.keyPrefix);
  const biddingAnswers = openBiddingAnswers(app, deps.redis, keys, registry);
  const bidderReads = requests.labels('/v1/bidding/:campaignId', 'GET', '200');
  const signalReads = requests.labels('/v1/users/:userId/signals', 'GET', '200');
  const limits = { windows, limit: config.api.rateLimitPerMinute, windowMs: rateWindowMs };
  fastPaths = [
    biddingFastPath({ ring, answers: biddingAnswers, ...limits, served: (s) => bidderReads.observe(s) }),
    signalsFastPath({ ring, redis: deps.redis, keys, partitions: config.kafka.eventPartitions, ...limits, served: (s) => signalReads.observe(s) }),
  ];
  const ctx: ApiContext = {
    config,
    redis: deps.redis,
    analyticsRedis: deps.analyticsRedis ?? deps.redis,
    closedHours: {
      cache: new ClosedHourCache(config.api.closedHoursCached, config.api.closedHoursMaxAgeMs),
      allowedLatenessMs: config.rules.allowedLatenessMs,
      partitions: config.kafka.eventPartitions,
    },
    keys,
    biddingAnswers,
    queue: deps.queue,
    now: deps.now ?? Date.now,
    maxCampaignHours: deps.maxCampaignHours ?? deps.config.api.maxCampaignHours,
    ...(deps.kafka ? { kafka: deps.kafka } : {}),
    ops: deps.ops ?? noOpsRecorder,
    archive: deps.archive ?? (await openApiArchive(app, config)),
  };
  for (const [routes, prefix] of routeGroups) await app.register(routes, { prefix, ctx });
  await registerOpsBoard(app, deps.queue);
  registerDashboardRoutes(app);
  registerProbes(app, deps.redis, registry, deps.metricsText ?? (() => registry.metrics()));
  return app;
}

/** The configured archive storage, read by this process (on S3 with a cache of its own), closed with the app. */
async function openApiArchive(app: FastifyInstance, config: SigflowConfig): Promise<ArchiveStorage> {
  const archive = await openArchiveStorage({ dir: config.archiver.dir, ...config.archive }, { reads: true });
  app.addHook('onClose', async () => archive.close());
  return archive;
}

/** The rate limit's window: `api.rateLimitPerMinute` requests per key (or address) in it. */
const rateWindowMs = 60_000;

/** Bidders' answers kept in this process (see `BiddingAnswerCache`), closed with the app. */
function openBiddingAnswers(app: FastifyInstance, redis: RedisClient, keys: StoreKeys, registry: Registry): BiddingAnswerCache {
  const answers = new BiddingAnswerCache(redis, keys, { onRead: biddingCacheMetrics(registry) });
  app.addHook('onClose', (_app, done) => {
    answers.close();
    done();
  });
  return answers;
}

/** The HTTP server fastify would make (its timeouts), with a listener that may answer first. */
function httpServer(options: FastifyServerOptions, listener: http.RequestListener): http.Server {
  const server = http.createServer(listener);
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
  if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  return server;
}

/** Errors, unknown parameters and non-finite numbers: answered 400/404 naming what is wrong. */
function installRequestChecks(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => handleError(err, request, reply));
  // A route that takes no query parameters still refuses unknown ones (400 naming them).
  app.addHook('onRoute', (route) => {
    if (route.config?.role && route.schema && !route.schema.hide && route.schema.querystring === undefined) {
      route.schema.querystring = Type.Object({}, { additionalProperties: false });
    }
  });
  // ajv coerces "Infinity" and "1e309" to Infinity for integer parameters and body fields and
  // then skips minimum/maximum (it checks those on finite numbers only): refuse them here.
  app.addHook('preHandler', (request, _reply, done) => {
    for (const part of [request.query, request.body]) {
      if (typeof part !== 'object' || part === null || Array.isArray(part)) continue;
      for (const [name, value] of Object.entries(part)) {
        if (typeof value === 'number' && !Number.isFinite(value)) return done(new BadParameterError(name, `parameter "${name}" must be a finite number`));
      }
    }
    done();
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, statusCode: 404 });
  });
}

/** OpenAPI at `/docs` (JSON at `/docs/json`). */
async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'sigflow serving API',
        version: '1.0.0',
        description:
          'Merged speed and batch views (Lambda architecture), user signals for recommendation services, reconciliation, ' +
          'exports and batch job control. Every route but the dashboard, /docs and the probes needs an API key ' +
          '(x-api-key header or Authorization: Bearer); roles: reader (users), analyst (+ analytics, exports), ops (+ jobs, /ops/queues, privacy); privacy (a person\'s deletion and export only).',
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
      tags: [
        { name: 'users', description: 'Recommendation services (role reader)' },
        { name: 'analytics', description: 'Analysts (role analyst)' },
        { name: 'export', description: 'Files (role analyst)' },
        { name: 'jobs', description: 'Batch jobs and schedules (role ops)' },
        { name: 'bidding', description: 'Bid multipliers for bidders (role reader), spend (analyst), budgets (set by ops)' },
        { name: 'privacy', description: "A person's deletion and export (role privacy, or ops)" },
        { name: 'segments', description: 'User segments: definitions (role ops), members and sizes (role reader)' },
        { name: 'alerts', description: 'Alert rules (role ops) and their episodes (role reader)' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** Public `/healthz`, `/readyz` (Redis answers PING within 1 s) and `/metrics`. */
function registerProbes(app: FastifyInstance, redis: RedisClient, registry: Registry, metricsText: () => Promise<string>): void {
  const probe = { schema: { hide: true }, config: { rateLimit: false } } as const;
  app.get('/healthz', probe, async () => ({ status: 'ok' }));
  app.get('/readyz', probe, async (_req, reply) => {
    const ok = await Promise.race([
      redis.ping().then(
        (pong) => pong === 'PONG',
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, 1_000, false).unref()),
    ]);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'Redis unreachable' });
  });
  app.get('/metrics', probe, async (_req, reply) => reply.header('content-type', registry.contentType).send(await metricsText()));
}
