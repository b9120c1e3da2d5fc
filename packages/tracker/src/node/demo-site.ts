import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DemoSiteError } from './errors.js';

/** Where the demo site listens and which collector its pages report to. */
export interface DemoSiteOptions {
  readonly host?: string;
  /** 0: any free port. */
  readonly port: number;
  /** Base URL of the collector: the snippet loads `<collector>/sdk/sigflow.js` and sends there. */
  readonly collectorUrl: string;
  /** The site's public key (`data-site`). */
  readonly siteKey: string;
  /** Tracker settings for the snippet, e.g. `{ 'flush-ms': '500' }` (become `data-*` attributes). */
  readonly snippet?: Readonly<Record<string, string>>;
}

export interface DemoSite {
  /** Base URL, e.g. `http://127.0.0.1:7007`. */
  readonly url: string;
  close(): Promise<void>;
}

// The pages sit next to src/ and dist/ (packages/tracker/demo), so this resolves from both.
const demoDir = new URL('../../demo/', import.meta.url);
const pages: Readonly<Record<string, string>> = { '/': 'landing.html', '/thanks': 'thanks.html' };

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The `<script>` tag a site embeds, as the demo pages carry it. */
export function trackerSnippet(options: Pick<DemoSiteOptions, 'collectorUrl' | 'siteKey' | 'snippet'>): string {
  const base = options.collectorUrl.replace(/\/+$/, '');
  const extra = Object.entries(options.snippet ?? {})
    .map(([k, v]) => ` data-${k.replace(/[^a-z0-9-]/g, '')}="${escapeAttr(v)}"`)
    .join('');
  return `<script src="${escapeAttr(base)}/sdk/sigflow.js" data-collector="${escapeAttr(base)}" data-site="${escapeAttr(options.siteKey)}" data-respect-dnt${extra} defer></script>`;
}

function render(file: string, snippet: string): Buffer {
  try {
    return Buffer.from(readFileSync(new URL(file, demoDir), 'utf8').replace('<!-- sigflow-snippet -->', snippet));
  } catch (cause) {
    throw new DemoSiteError(`demo page ${file} is missing`, { cause });
  }
}

/**
 * A small web site instrumented with the tracker: a landing page (`/`, page id `landing`) with
 * calls to action, a pricing table, a sign-up form and a long body to scroll, and a thank-you
 * page (`/thanks`) that reports a conversion. Pages are rendered once; paths are looked up in a
 * fixed table, never built from the request.
 */
export async function startDemoSite(options: DemoSiteOptions): Promise<DemoSite> {
  const snippet = trackerSnippet(options);
  const bodies = new Map(Object.entries(pages).map(([path, file]) => [path, render(file, snippet)]));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const body = req.method === 'GET' || req.method === 'HEAD' ? bodies.get(path) : undefined;
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new DemoSiteError(`demo site cannot listen on port ${options.port}: ${(cause as Error).message}`, { cause })));
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
