import { Counter, Histogram, type Registry } from 'prom-client';
import type { CacheOutcome } from '@sigflow/store/bidding';
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
  app.addHook('onResponse', (request, reply, done) => {
    histogram.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  return histogram;
}

/**
 * `sigflow_api_bidding_answer_reads_total{outcome}`: bidding answers served from memory (hit),
 * read from Redis and kept (miss), or read from Redis while the cache stands aside (bypass).
 */
export function biddingCacheMetrics(registry: Registry): (outcome: CacheOutcome) => void {
  const counter = new Counter({ name: 'sigflow_api_bidding_answer_reads_total', help: 'Bidding answers read, by where they came from', labelNames: ['outcome'] as const, registers: [registry] });
  // One child per outcome: no label hashing per request.
  const children = { hit: counter.labels('hit'), miss: counter.labels('miss'), bypass: counter.labels('bypass') };
  return (outcome) => children[outcome].inc();
}
