// The tracker's own behaviour in Debian's Chromium, against a small HTTP stand-in for the
// collector's ingest route (it records what arrives and can answer 503): batching at a size,
// retries with backoff keeping event ids, the bounded offline queue, SPA page views, form
// abandons, identify/track, and link follows sent by sendBeacon as the page goes away. The
// collector itself is tested with the tracker in test/browser/heatmap.test.ts.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const script = readFileSync(new URL('../dist/sigflow.js', import.meta.url));

interface Arrival {
  readonly at: number;
  /** `no-cors` for sendBeacon, `cors` for fetch. */
  readonly mode: string;
  readonly status: number;
  readonly events: Record<string, unknown>[];
}

/** A tall page (nothing to report about scrolling at load), 15 buttons, a form, a link. */
function pageHtml(settings: URLSearchParams): string {
  const attrs = [...settings].map(([k, v]) => ` data-${k.replace(/[^a-z-]/g, '')}="${v.replace(/[^\w.-]/g, '')}"`).join('');
  const buttons = Array.from({ length: 15 }, (_, i) => `<button id="b${i + 1}">button ${i + 1}</button>`).join('');
  return `<!doctype html><html><head><script src="/sdk/sigflow.js"${attrs} defer></script></head>
<body style="height:3000px">${buttons}<form id="order"><input id="qty" name="qty"></form><a id="away" href="/other">away</a></body></html>`;
}

describe('the tracker in Chromium', () => {
  let server: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let arrivals: Arrival[] = [];
  let failNext = 0;
  /** Resource type of each ingest request (`ping` = sendBeacon). */
  let requests: { type: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/sdk/sigflow.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      if (req.method === 'POST' && url.pathname === '/v1/events') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          const status = failNext > 0 ? (failNext--, 503) : 202;
          arrivals.push({ at: Date.now(), mode: String(req.headers['sec-fetch-mode']), status, events: JSON.parse(body) as Record<string, unknown>[] });
          res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        });
        return;
      }
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'text/html' }).end(pageHtml(url.searchParams));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  beforeEach(async () => {
    await context?.close();
    arrivals = [];
    requests = [];
    failNext = 0;
    context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    context.on('request', (r) => {
      if (r.url().includes('/v1/events')) requests.push({ type: r.resourceType() });
    });
    page = await context.newPage();
  });

  const open = async (path: string, settings: Record<string, string>) => {
    await page.goto(`${base}${path}?${new URLSearchParams({ 'mouse-sample': '0', ...settings })}`);
    await page.waitForFunction('window.sigflow && window.sigflow.tracking');
  };
  const delivered = () => arrivals.filter((a) => a.status === 202).flatMap((a) => a.events);
  const until = async (what: string, ok: () => boolean, ms = 10_000) => {
    for (const end = Date.now() + ms; !ok(); ) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(arrivals)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('sends a batch as soon as batch-size events wait, before the interval', async () => {
    await open('/shop', { 'batch-size': '3', 'flush-ms': '60000' });
    await page.click('#b1');
    const clicked = Date.now();
    await page.click('#b2');
    await until('one batch', () => arrivals.length === 1);
    expect(arrivals[0]!.at - clicked).toBeLessThan(2_000);
    expect(arrivals[0]!.events.map((e) => [e['type'], e['page_id'], e['element_id'] ?? null])).toEqual([
      ['page_view', '/shop', null],
      ['element_click', '/shop', 'b1'],
      ['element_click', '/shop', 'b2'],
    ]);
    expect(requests[0]!.type).toBe('fetch');
    expect(arrivals[0]!.mode).toBe('cors');
  });

  it('retries a failed send with growing backoff, the same events with the same ids', async () => {
    failNext = 2;
    await open('/shop', { 'flush-ms': '300' });
    await page.click('#b1');
    await until('the third attempt', () => arrivals.length >= 3 && delivered().some((e) => e['type'] === 'element_click'));
    const [a, b, c] = arrivals;
    expect([a!.status, b!.status, c!.status]).toEqual([503, 503, 202]);
    // Backoff 1 s then 2 s, each jittered into [half, whole].
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(450);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(950);
    const ids = (x: Arrival) => x.events.map((e) => e['event_id']);
    // Each attempt resends what failed first (events queued since come after).
    expect(ids(b!).slice(0, ids(a!).length)).toEqual(ids(a!));
    expect(ids(c!).slice(0, ids(a!).length)).toEqual(ids(a!));
  });

  it('keeps the newest max-queue events while offline and sends them when back online', async () => {
    await open('/shop', { 'flush-ms': '300', 'max-queue': '10' });
    await until('the page view', () => delivered().length === 1);
    await context.setOffline(true);
    for (let i = 1; i <= 15; i++) await page.click(`#b${i}`);
    await page.waitForTimeout(800);
    await context.setOffline(false);
    await until('the queued clicks', () => delivered().length >= 11);
    await page.waitForTimeout(800);
    expect(delivered().filter((e) => e['type'] === 'element_click').map((e) => e['element_id'])).toEqual(Array.from({ length: 10 }, (_, i) => `b${i + 6}`));
  });

  it('counts SPA navigations as page views, abandons the open form, and sends identify and track as asked', async () => {
    await open('/app', { 'flush-ms': '300' });
    const anonymous = String(await page.evaluate(`localStorage.getItem('sigflow_anon')`));
    await page.focus('#qty');
    await page.keyboard.type('3');
    await page.evaluate(`history.pushState({}, '', '/app/step-2')`);
    await page.evaluate(`sigflow.identify('user-42')`);
    await page.evaluate(`sigflow.track('conversion', { value: 12.5, currency: 'EUR', event_id: 'spoofed', user_id: 'someone' })`);
    await until('the conversion', () => delivered().some((e) => e['type'] === 'conversion'));
    const seen = delivered().map((e) => [e['type'], e['page_id'], e['form_id'] ?? e['value'] ?? null, e['action'] ?? null, e['user_id']]);
    expect(seen).toEqual([
      ['page_view', '/app', null, null, anonymous],
      ['form_interaction', '/app', 'order', 'focus', anonymous],
      ['form_interaction', '/app', 'order', 'input', anonymous],
      ['form_interaction', '/app', 'order', 'abandon', anonymous],
      ['page_view', '/app/step-2', null, null, anonymous],
      ['conversion', '/app/step-2', 12.5, null, 'user-42'],
    ]);
    const conversion = delivered().find((e) => e['type'] === 'conversion')!;
    expect(conversion['event_id']).not.toBe('spoofed');
    expect(conversion['currency']).toBe('EUR');
    // The site's id is kept across page loads, the anonymous one too.
    await page.reload();
    const pageViews = () => [...new Map(delivered().filter((e) => e['type'] === 'page_view').map((e) => [e['event_id'], e])).values()];
    await until('the next page view', () => pageViews().length === 3);
    expect(pageViews()[2]!['user_id']).toBe('user-42');
    expect(await page.evaluate(`localStorage.getItem('sigflow_anon')`)).toBe(anonymous);
    // At least once: a batch whose answer the reload cut off goes out again by beacon, each
    // event with its id and content unchanged (the layers drop the copy).
    const byId = new Map<unknown, Record<string, unknown>>();
    for (const e of delivered()) expect(e).toEqual(byId.get(e['event_id']) ?? (byId.set(e['event_id'], e), e));
    expect(byId.size).toBe(seen.length + 1);
  });

  it('sends what is queued, a link follow included, by sendBeacon as the page goes away', async () => {
    await open('/shop', { 'flush-ms': '60000' });
    await page.click('#away');
    await page.waitForURL(`${base}/other`);
    await until('the beacon', () => delivered().some((e) => e['type'] === 'link_follow'));
    // One request, a beacon (no-cors, text/plain), with everything the page had queued.
    expect(arrivals.map((a) => [a.mode, a.events.map((e) => e['type'])])).toEqual([['no-cors', ['page_view', 'element_click', 'link_follow']]]);
    expect(delivered().find((e) => e['type'] === 'link_follow')!['href']).toBe(`${base}/other`);
    expect(delivered().find((e) => e['type'] === 'element_click')!['element_id']).toBe('away');
  });
});
