import http from 'node:http';
import { build } from 'esbuild';

/** A page of a site instrumented with Segment's analytics-next, served on its own origin. */
export interface SegmentDemoPage {
  /** The page's origin, e.g. http://127.0.0.1:5173. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * analytics-next from npm, bundled for the browser as a site would (esbuild, one file; its lazy
 * chunks inlined), exposing `window.AnalyticsBrowser`.
 */
async function analyticsNextBundle(): Promise<string> {
  const out = await build({
    stdin: { contents: "import { AnalyticsBrowser } from '@segment/analytics-next'; window.AnalyticsBrowser = AnalyticsBrowser;", resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/**
 * Serves `/shop.html`, which loads analytics-next with `cdnURL` at the collector (so its
 * settings, and through them `apiHost`, come from sigflow alone) and exposes the loaded client as
 * `window.analytics` once ready (`window.analyticsReady`).
 */
export async function startSegmentDemoPage(options: { port: number; collectorUrl: string; writeKey: string }): Promise<SegmentDemoPage> {
  const script = await analyticsNextBundle();
  const html = `<!doctype html><html><head><title>Shop</title><script src="/analytics-next.js"></script></head><body><h1>Shop</h1>
<script>
AnalyticsBrowser.load({ writeKey: ${JSON.stringify(options.writeKey)}, cdnURL: ${JSON.stringify(options.collectorUrl)} })
  .then(([analytics]) => { window.analytics = analytics; window.analyticsReady = true; })
  .catch((err) => { window.analyticsError = String(err); });
</script></body></html>`;
  const server = http.createServer((req, res) => {
    const [type, body] = req.url === '/analytics-next.js' ? ['text/javascript', script] : req.url?.startsWith('/shop.html') ? ['text/html', html] : [undefined, ''];
    if (type === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${options.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
