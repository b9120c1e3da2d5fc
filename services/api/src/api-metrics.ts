import { Histogram, type Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { latencyBuckets } from '@sigflow/observability';

/** `sigflow_api_request_seconds{route,method,status}`: every answered request, by route pattern. */
export function installRequestMetrics(app: FastifyInstance, registry: Registry): Histogram<'route' | 'method' | 'status'> {
  const histogram = new Histogram({
    name: 'sigflow_api_request_seconds',
    help: 'Time from request to response, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    histogram.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  return histogram;
}
