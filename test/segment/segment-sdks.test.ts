// Segment's own clients, unchanged, sending to sigflow (issue: any product action as a user
// signal, sent by Segment SDKs). analytics-node (pinned) posts batches through a proxy whose first
// answer is lost (the collector took the batch, the client sees a 503 and sends it again, same
// message ids); analytics-next (pinned) runs in headless Chromium on a shop page whose cdnURL is the
// collector. Collector, speed layer and API run as their own processes, as `npm start` runs them.
// What the recommendation service, the analyst and the segment rule read is checked through the
// API against what the clients were told to send: signals by name, traits in the profile, a
// segment over count:track:search:1h, per-name counts, and last-touch credit for a
// Promotion Clicked -> Order Completed journey.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Analytics } from '@segment/analytics-node';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, ensureChromium } from '../../infra/lib/chromium.mjs';
import { freePort } from '../../infra/lib/process.mjs';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import type { ServiceProcess } from '../support/services.js';
import { startSegmentDemoPage, type SegmentDemoPage } from '../support/segment-demo-page.js';
import { openDashboard } from '../support/dashboard-browser.js';
import { runShoppers } from '@sigflow/loadgen';

const WRITE_KEY = `wk-${randomBytes(8).toString('hex')}`;
const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-agent=${DESKTOP_CHROME}`];

/** What one POST through the proxy carried and how it was answered. */
interface ProxiedBatch {
  readonly retryCount: string | undefined;
  readonly messageIds: string[];
  readonly collectorStatus: number;
  readonly clientStatus: number;
}

/**
 * Forwards to the collector; the first batch's answer is lost on the way back (the collector
 * accepted it, the client gets a 503), as when a load balancer drops a connection.
 */
async function lossyProxy(target: string): Promise<{ url: string; batches: ProxiedBatch[]; close(): Promise<void> }> {
  const batches: ProxiedBatch[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))) as Record<string, string>;
    const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body });
    const text = await answer.text();
    const lose = batches.length === 0;
    const messageIds = (JSON.parse(body.toString()).batch as { messageId: string }[]).map((m) => m.messageId);
    batches.push({ retryCount: req.headers['x-retry-count'] as string | undefined, messageIds, collectorStatus: answer.status, clientStatus: lose ? 503 : answer.status });
    if (lose) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"upstream connection lost"}');
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, batches, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("Segment's SDKs sending to sigflow, read back through the API", () => {
  const run = randomBytes(3).toString('hex');
  let scenario: Scenario;
  let collectorUrl: string;
  let api: ServiceProcess;
  let proxy: Awaited<ReturnType<typeof lossyProxy>>;
  let page: SegmentDemoPage;
  let browser: Browser;
  const started = Date.now();

  const apiCall = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, { method, headers: { 'x-api-key': 'k', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    expect(res.status, `${method} ${url}: ${text}`).toBeLessThan(300);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field below
    return JSON.parse(text) as any;
  };
  const signals = async (user: string, query = '') => (await apiCall('GET', `/v1/users/${user}/signals${query}`)).signals as Record<string, unknown>[];

  beforeAll(async () => {
    await ensureChromium();
    const pagePort = await freePort();
    scenario = new Scenario('segment', {
      ...oneServerProcess,
      SIGFLOW_COLLECTOR_SITE_KEYS: `${WRITE_KEY}:shop`,
      SIGFLOW_COLLECTOR_ALLOWED_ORIGINS: `http://127.0.0.1:${pagePort}`,
      SIGFLOW_COLLECTOR_SEGMENT_MAPPING: JSON.stringify({ shop: { 'Products Searched': 'track:search' } }),
    });
    await scenario.setUp();
    const collector = await scenario.collector();
    api = await scenario.api();
    await Promise.all([collector.start(), (await scenario.speed()).start(), api.start()]);
    collectorUrl = `http://127.0.0.1:${collector.metricsPort}`;
    proxy = await lossyProxy(collectorUrl);
    page = await startSegmentDemoPage({ port: pagePort, collectorUrl, writeKey: WRITE_KEY });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumFlags });
    // Before any event: the segment a recommendation service activates.
    await apiCall('PUT', '/v1/segments/searchers', { rule: { all: [{ feature: 'count:track:search:1h', op: '>=', value: 2 }] } });
    // The speed layer reads changed definitions every SIGFLOW_SEGMENTS_REFRESH_MS (1 s).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await page?.close();
    await proxy?.close();
    await scenario?.tearDown();
  });

  it('analytics-node: track, page, identify and alias in batches; a lost answer retried with the same ids counts once', async () => {
    const user = `node-${run}`;
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: proxy.url, flushAt: 4, flushInterval: 200, maxRetries: 3 });
    const at = (msAgo: number) => new Date(Date.now() - msAgo);
    analytics.identify({ userId: user, traits: { plan: 'pro', city: 'Lyon' }, timestamp: at(30_000) });
    analytics.track({ userId: user, event: 'search', properties: { query: 'tent' }, timestamp: at(29_000) });
    analytics.track({ userId: user, event: 'search', properties: { query: 'tent 2p' }, timestamp: at(28_000) });
    analytics.track({ userId: user, event: 'View Item', properties: { sku: 'tent-2', price: 199 }, timestamp: at(27_000) });
    analytics.page({ userId: user, name: 'Tents', properties: { path: '/tents' }, timestamp: at(26_000) });
    analytics.alias({ userId: user, previousId: `anon-${run}`, timestamp: at(25_000) });
    const campaign = { campaign: { name: 'spring', medium: 'email', source: 'newsletter' } };
    analytics.track({ userId: user, event: 'Promotion Viewed', properties: { promotion_id: `promo-${run}`, creative: 'hero' }, context: campaign, timestamp: at(20_000) });
    analytics.track({ userId: user, event: 'Promotion Clicked', properties: { promotion_id: `promo-${run}`, creative: 'hero' }, context: campaign, timestamp: at(15_000) });
    analytics.track({ userId: user, event: 'Order Completed', properties: { order_id: 'o-1', revenue: 80, currency: 'EUR' }, timestamp: at(10_000) });
    await analytics.closeAndFlush({ timeout: 60_000 });

    // The first batch went through, its answer was lost, and the client sent it again as it was.
    const [first] = proxy.batches;
    expect(first).toMatchObject({ collectorStatus: 200, clientStatus: 503, retryCount: undefined });
    const again = proxy.batches.filter((b) => b.retryCount === '1');
    expect(again.map((b) => b.messageIds)).toEqual([first!.messageIds]);
    expect(proxy.batches.every((b) => b.collectorStatus === 200)).toBe(true);
    expect(new Set(proxy.batches.flatMap((b) => b.messageIds)).size).toBe(9);

    // Every signal once: 2 searches, the item, the page, the promotions and the order (identify and alias are no signals).
    const all = await waitUntil('the speed layer to serve the signals', () => signals(user), (s) => s.length >= 7, 60_000);
    expect(all.map((s) => s['type']).sort()).toEqual(['click', 'conversion', 'impression', 'page_view', 'track', 'track', 'track']);
    const searches = await signals(user, '?event=search');
    expect(searches.map((s) => (s['properties'] as Record<string, unknown>)['query'])).toEqual(['tent 2p', 'tent']);
    expect((await signals(user, '?event=view_item'))[0]).toMatchObject({ name: 'view_item', properties: { sku: 'tent-2', price: 199 } });

    const profile = await apiCall('GET', `/v1/users/${user}/profile`);
    expect(profile.traits).toEqual({ plan: 'pro', city: 'Lyon' });
    expect(profile.segments.map((s: { name: string }) => s.name)).toContain('searchers');

    const counted = async () => {
      const counts = await apiCall('GET', `/v1/events/counts?from=${started - 10 * 60_000}&to=${Date.now() + 60_000}&granularity=total&name=search,view_item`);
      return Object.fromEntries(counts.rows.map((r: { name: string; valid: number }) => [r.name, r.valid]));
    };
    // The range starts well before the first event's minute: a window counts when its start
    // lies in the range, and with `from` 60 s before the suite began, a search 29 s old whose
    // minute began earlier fell out of it (the test failed with no counts, now and then). One
    // row per name (total), so two searches in two minutes are not two rows.
    const counts = await waitUntil('the per-name counts', counted, (valid) => Object.keys(valid).length === 2, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; the speed layer counted ${JSON.stringify(await scenario.speedCounters())}`);
    });
    expect(counts).toEqual({ search: 2, view_item: 1 });

    const credit = await waitUntil(
      'last-touch credit for the promotion',
      async () => (await apiCall('GET', `/v1/attribution?groupBy=campaign&from=${started - 10 * 60_000}&to=${Date.now() + 60_000}`)).rows.find((r: { key: string }) => r.key === `promo-${run}`),
      (row) => row !== undefined,
      30_000,
    );
    expect(credit).toMatchObject({ conversions: 1, revenue: 80 });
  });

  it('analytics-next in Chromium: settings from sigflow, then page and track calls', async () => {
    const user = `web-${run}`;
    const context = await browser.newContext();
    const tab = await context.newPage();
    const problems: string[] = [];
    tab.on('pageerror', (err) => problems.push(err.message));
    const requests: string[] = [];
    tab.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    await tab.goto(`${page.origin}/shop.html`);
    await tab.waitForFunction('window.analyticsReady === true || window.analyticsError !== undefined');
    expect(await tab.evaluate('window.analyticsError')).toBeUndefined();
    await tab.evaluate(async (id) => {
      const a = (globalThis as unknown as { analytics: { identify(id: string, traits: object): Promise<unknown>; page(): Promise<unknown>; track(event: string, props: object): Promise<unknown> } }).analytics;
      await a.identify(id, { newsletter: true });
      await a.page();
      await a.track('Products Searched', { query: 'sleeping bag' });
      await a.track('Add To Wishlist', { sku: 'bag-1' });
    }, user);
    await context.close();
    expect(problems).toEqual([]);
    // Only sigflow was asked: the settings from the collector, the calls to it (one-letter paths).
    const outside = requests.filter((r) => !r.includes(page.origin) && !r.includes(collectorUrl));
    expect(outside).toEqual([]);
    expect(requests).toContain(`GET ${collectorUrl}/v1/projects/${WRITE_KEY}/settings`);
    expect(requests.filter((r) => r.startsWith(`POST ${collectorUrl}/v1/`)).map((r) => r.slice(r.lastIndexOf('/') + 1)).sort()).toEqual(['i', 'p', 't', 't']);

    const served = await waitUntil('the browser signals', () => signals(user), (s) => s.length >= 3, 60_000);
    expect(served.map((s) => [s['type'], s['name'] ?? s['page_id']])).toEqual([
      ['track', 'add_to_wishlist'],
      ['track', 'search'],
      ['page_view', '/shop.html'],
    ]);
    expect(served.every((s) => s['invalid'] === false)).toBe(true);
    expect((await apiCall('GET', `/v1/users/${user}/profile`)).traits).toEqual({ newsletter: true });
  });

  it("npm start's demo shoppers (analytics-node) reach the dashboard's user panel: custom events by name, traits", async () => {
    const before = Date.now();
    const failures: unknown[] = [];
    const { visits } = await runShoppers({ collectorUrl, writeKey: WRITE_KEY, visitsPerSecond: 10, durationMs: 1_000, seed: 7, onError: (err) => failures.push(err) });
    expect(failures).toEqual([]);
    expect(visits).toBeGreaterThan(3);
    // Every visit identifies the shopper, views a page, searches at least once and views an item.
    const recent = await waitUntil(
      'the shoppers to be seen',
      async () => ((await apiCall("GET", "/v1/users/recent?limit=200")).users as { userId: string }[]).filter((u) => u.userId.startsWith('shopper-')),
      (users) => users.length > 0,
      60_000,
    );
    const shopper = recent[0]!.userId;
    const searches = await waitUntil('a search of the shopper', () => signals(shopper, '?event=search'), (s) => s.length > 0, 30_000);
    const dashboard = await openDashboard(`http://127.0.0.1:${api.metricsPort}/#key=k`);
    try {
      const { page: panel } = dashboard;
      await panel.fill('#user-id', shopper);
      await panel.click('#user-submit');
      await panel.waitForSelector(`#user-result[data-state="ready"][data-user-id="${shopper}"]`, { timeout: 15_000 });
      const rows = await panel.locator('#user-signals tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-type'), tr.getAttribute('data-name')]));
      expect(rows.filter(([type, name]) => type === 'track' && name === 'search').length).toBe(searches.length);
      expect(rows.some(([type, name]) => type === 'track' && name === 'view_item')).toBe(true);
      expect(rows.some(([type]) => type === 'page_view')).toBe(true);
      const traits = JSON.parse((await panel.getAttribute('[data-field="traits"]', 'data-value')) ?? '{}');
      expect(['free', 'plus', 'pro']).toContain(traits.plan);
      expect(typeof traits.newsletter).toBe('boolean');
      expect(dashboard.problems).toEqual([]);
    } finally {
      await dashboard.close();
    }
    expect(searches.every((s) => (s['ts'] as number) >= before - 120_000)).toBe(true);
  });
});
