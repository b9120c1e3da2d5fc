import http from 'node:http';
import type { Registry } from 'prom-client';

/** A readiness probe: resolves true when the service can do its work. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export interface HealthServerOptions {
  readonly host?: string;
  readonly port: number;
  /** What `/metrics` answers: a registry, or anything that renders like one (several processes' metrics merged). */
  readonly registry: Pick<Registry, 'metrics' | 'contentType'>;
  readonly ready: ReadinessCheck;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `/healthz` (the process runs), `/readyz` (its dependencies answer) and `/metrics`
 * (Prometheus) for services that have no HTTP API of their own.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, JSON.stringify({ error: 'method not allowed' }));
    if (url === '/healthz') return reply(200, JSON.stringify({ status: 'ok' }));
    if (url === '/readyz') {
      Promise.resolve()
        .then(options.ready)
        .then(
          (ok) => reply(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not ready' })),
          (err: Error) => reply(503, JSON.stringify({ status: 'not ready', error: err.message })),
        );
      return;
    }
    if (url === '/metrics') {
      options.registry.metrics().then(
        (text) => reply(200, text, options.registry.contentType),
        (err: Error) => reply(500, JSON.stringify({ error: err.message })),
      );
      return;
    }
    reply(404, JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
