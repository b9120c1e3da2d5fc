import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

// The page's files sit next to src/ and dist/ (services/api/public), so this resolves from both.
const publicDir = new URL('../../public/', import.meta.url);
const assets = {
  '/': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard-users.js': { file: 'dashboard-users.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard-ops.js': { file: 'dashboard-ops.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard-heatmap.js': { file: 'dashboard-heatmap.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard-pacing.js': { file: 'dashboard-pacing.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard-segments.js': { file: 'dashboard-segments.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard-sql.js': { file: 'dashboard-sql.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
} as const;

/**
 * The dashboard: static files, public (they hold no data). The page takes an API key from the
 * URL fragment (`/#key=...`, never sent to the server, removed from the address bar) or asks
 * for one, keeps it in sessionStorage, and calls the JSON routes with it. Files are read once,
 * at start-up, from fixed names: no path is ever built from a request. The on-page heatmap
 * frames the page a tracker reported (any http(s) origin, hence `frame-src`), sandboxed and
 * never on the dashboard's own origin (dashboard-heatmap.js).
 */
export function registerDashboardRoutes(app: FastifyInstance): void {
  for (const [path, { file, type }] of Object.entries(assets)) {
    const body = readFileSync(new URL(file, publicDir));
    app.get(path, { schema: { hide: true }, config: { rateLimit: false } }, async (_req, reply) =>
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header(
          'content-security-policy',
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-src http: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )
        .send(body),
    );
  }
}
