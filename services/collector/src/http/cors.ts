import type { FastifyInstance, FastifyReply } from 'fastify';

/** Whether browsers on `origin` may send events. */
export function originAllowed(allowed: readonly string[], origin: string): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

function allow(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'retry-after');
}

/**
 * CORS for the ingest routes (`/v1/...`) from `allowedOrigins`: the preflight (`OPTIONS`) is
 * answered 204 with the allowed method and headers; an actual request from an allowed origin
 * gets `Access-Control-Allow-Origin`. A request or preflight from any other origin is refused
 * with 403 before its body is read: browsers send simple requests (beacons, text/plain) without
 * a preflight, so refusing only the preflight would not keep their events out. Requests without
 * `Origin` (servers, curl) are not affected.
 */
export function installCors(app: FastifyInstance, allowedOrigins: readonly string[], onRefused: () => void): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || !request.url.startsWith('/v1/')) return;
    if (!originAllowed(allowedOrigins, origin)) {
      onRefused();
      return reply
        .code(403)
        .header('vary', 'Origin')
        .send({ error: `origin ${JSON.stringify(origin).slice(0, 200)} may not send events (SIGFLOW_COLLECTOR_ALLOWED_ORIGINS)`, statusCode: 403 });
    }
    allow(reply, origin);
    if (request.method === 'OPTIONS') {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type, x-api-key, x-site-key, authorization, x-retry-count')
        .header('access-control-max-age', '600')
        .send();
    }
  });
  // The preflight's route: the hook above answers it (or refuses it) before it is reached.
  app.options('/v1/events', { schema: { hide: true } }, async (_request, reply) =>
    reply.code(403).send({ error: 'a preflight needs an Origin header', statusCode: 403 }),
  );
}
