import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { SigflowConfig } from '@sigflow/config';
import { eventLimits } from '@sigflow/events';
import { createMetricsRegistry, type Logger } from '@sigflow/observability';
import { loadTrackerScript, type TrackerScript } from '@sigflow/tracker';
import type { TombstoneSet } from '@sigflow/privacy';
import { collectorMetrics } from './collector-metrics.js';
import { parseJsonArrayBody, parseNdjsonBody } from './ingest/event-body.js';
import { registerIngestRoute, type EventSink } from './routes/ingest-route.js';
import { registerSdkRoute } from './routes/sdk-route.js';
import { installCors } from './http/cors.js';
import { segmentRoutes } from './segment/segment-routes.js';

export interface CollectorDeps {
  readonly config: SigflowConfig;
  readonly sink: EventSink;
  /** Where refused Segment messages are kept with their reason (the dead-letter topic); none: no Segment API. */
  readonly deadLetters?: EventSink;
  /** Kafka reachable? (for `/readyz`) */
  readonly kafkaReady: () => Promise<boolean>;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** The clock that stamps `received_at` (tests pin it). */
  readonly now?: () => number;
  /** What `/metrics` serves. Default: this process's registry (a cluster worker serves every worker's). */
  readonly metricsText?: () => Promise<string>;
  /** The web tracker served at `/sdk/sigflow.js`. Default: the built `@sigflow/tracker` script. */
  readonly trackerScript?: TrackerScript;
  /** Deleted people, whose events are refused; none: nobody is refused. */
  readonly tombstones?: TombstoneSet;
}

const ndjsonTypes = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

/** Builds the collector's HTTP app (not listening yet). */
export async function buildCollector(deps: CollectorDeps): Promise<FastifyInstance> {
  const registry = deps.registry ?? createMetricsRegistry('collector');
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps fastify's default generics.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: eventLimits.maxBatchBytes,
    // Behind a proxy that sets X-Forwarded-For (SIGFLOW_COLLECTOR_TRUST_PROXY), request.ip is the client's.
    trustProxy: deps.config.collector.trustProxy,
    // Per-request lines would dominate the log at thousands of requests a second; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are parsed here (not by fastify's JSON parser) so malformed input gets its position.
  app.removeAllContentTypeParsers();
  // text/plain: what navigator.sendBeacon sends (and fetch without a CORS preflight); JSON all the same.
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonArrayBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser(ndjsonTypes, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseNdjsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const statusCode = err.statusCode ?? 500;
    if (statusCode >= 500) request.log.error({ err }, 'request failed');
    const error =
      err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `unsupported content-type ${JSON.stringify(request.headers['content-type'] ?? '')}: use application/json (array), text/plain (a JSON array, as beacons send) or application/x-ndjson`
        : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `request body over ${eventLimits.maxBatchBytes} bytes`
          : statusCode >= 500
            ? 'internal error'
            : err.message;
    reply.code(statusCode).send({ error, statusCode });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'sigflow collector', version: '1.0.0', description: 'HTTP ingest of ad and web events into Kafka.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = collectorMetrics(registry);
  installCors(app, deps.config.collector.allowedOrigins, () => metrics.corsRefused.inc());
  registerSdkRoute(app, deps.trackerScript ?? loadTrackerScript(), deps.config.collector.sdkMaxAgeSeconds, metrics.sdkServed);
  registerIngestRoute(app, {
    collector: deps.config.collector,
    limits: deps.config.limits,
    sink: deps.sink,
    metrics,
    now: deps.now ?? Date.now,
    privacy: deps.config.privacy,
    ...(deps.tombstones ? { tombstones: deps.tombstones } : {}),
  });
  if (deps.deadLetters) {
    await app.register(segmentRoutes, {
      collector: deps.config.collector,
      limits: deps.config.limits,
      sink: deps.sink,
      deadLetters: deps.deadLetters,
      metrics,
      now: deps.now ?? Date.now,
      privacy: deps.config.privacy,
      ...(deps.tombstones ? { tombstones: deps.tombstones } : {}),
    });
  }

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const ok = await deps.kafkaReady().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'Kafka unreachable' });
  });
  const metricsText = deps.metricsText ?? (() => registry.metrics());
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('content-type', registry.contentType).send(await metricsText()),
  );
  return app;
}
