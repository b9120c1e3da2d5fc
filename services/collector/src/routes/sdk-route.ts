import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import type { TrackerScript } from '@sigflow/tracker';

/** Whether an If-None-Match header names `etag` (or is `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * `GET /sdk/sigflow.js`: the web tracker, public and cacheable: a strong ETag (304 for a
 * matching If-None-Match), `Cache-Control: public, max-age=<maxAge>`, gzip when accepted, and
 * loadable from any site (`Cross-Origin-Resource-Policy: cross-origin`).
 */
export function registerSdkRoute(app: FastifyInstance, script: TrackerScript, maxAgeSeconds: number, served: Counter<'status'>): void {
  app.get('/sdk/sigflow.js', { schema: { hide: true } }, async (request, reply) => {
    reply
      .header('etag', script.etag)
      .header('cache-control', `public, max-age=${maxAgeSeconds}, stale-while-revalidate=86400`)
      .header('vary', 'Accept-Encoding')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('access-control-allow-origin', '*')
      .header('x-content-type-options', 'nosniff');
    if (matches(request.headers['if-none-match'], script.etag)) {
      served.inc({ status: 304 });
      return reply.code(304).send();
    }
    served.inc({ status: 200 });
    reply.type('text/javascript; charset=utf-8');
    const gzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? script.gzip : script.body);
  });
}
