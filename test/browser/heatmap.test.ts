// The web tracker on a real page in headless Chromium, end to end: the demo landing page embeds
// the snippet (served by the collector at /sdk/sigflow.js, sending from its own origin with a
// public site key); the visitor clicks three elements 5, 3 and 1 times (named by
// data-sigflow-id, by id, and by CSS path), scrolls to the bottom, focuses the sign-up form and
// leaves the page. The events in Kafka, the API's heatmap, scroll reach and form funnels, and the
// dashboard's overlay on the framed page must say exactly that; an opted-out visitor and one
// whose browser asks not to be tracked send nothing. Collector, speed layer and API run as
// their own processes, as `npm start` runs them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { readTopicMessages, topicOffsets } from '@sigflow/kafka';
import { startDemoSite, type DemoSite } from '@sigflow/tracker';
import { CHROMIUM, ensureChromium } from '../../infra/lib/chromium.mjs';
import { freePort } from '../../infra/lib/process.mjs';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import { ServiceProcess, repoRoot } from '../support/services.js';

const ARTIFACTS = path.join(repoRoot, 'test/artifacts');
const SITE_KEY = 'pk-demo-test';
const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The three elements the visitor clicks, as the tracker names them, and how often. */
const CLICKS = [
  { selector: '[data-sigflow-id="cta-trial"]', elementId: 'cta-trial', times: 5 },
  { selector: '#learn-more', elementId: 'learn-more', times: 3 },
  // "Choose Growth": no data-sigflow-id, no id, so its CSS path from the nearest id (#pricing).
  { selector: 'text=Choose Growth', elementId: '#pricing>div>div:nth-of-type(2)>button', times: 1 },
];

/**
 * A desktop Chrome's user agent: headless Chromium's own says "HeadlessChrome", which the bot
 * rule rightly calls a bot (its events would be invalid and kept out of every heatmap). Given
 * as a browser flag: a context's userAgent option does not reach sendBeacon.
 */
const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

type Event = Record<string, unknown> & { type: string; user_id: string; ts: number };

describe('web tracker on the demo page, heatmaps in the API and the dashboard', () => {
  let scenario: Scenario;
  let demo: DemoSite;
  let collectorUrl: string;
  let apiPort: number;
  const stack: ServiceProcess[] = [];
  let browser: Browser;
  /** Every event of the topic, read once traffic stopped. */
  let events: Event[] = [];
  let visitor: string;

  const apiGet = async (url: string) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${url}`, { headers: { 'x-api-key': 'k' } });
    expect(res.status, url).toBe(200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field by the assertions
    return (await res.json()) as Record<string, any>;
  };

  beforeAll(async () => {
    await ensureChromium();
    scenario = new Scenario('heatmap', oneServerProcess);
    await scenario.setUp();
    const demoPort = await freePort();
    const collectorPort = await freePort();
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const collector = new ServiceProcess(`collector-heatmap-${scenario.id}`, 'services/collector/dist/main.js', {
      ...scenario.env,
      SIGFLOW_COLLECTOR_PORT: String(collectorPort),
      SIGFLOW_COLLECTOR_SITE_KEYS: `${SITE_KEY}:demo`,
      SIGFLOW_COLLECTOR_ALLOWED_ORIGINS: `http://127.0.0.1:${demoPort}`,
    }, collectorPort);
    const api = await scenario.api();
    apiPort = api.metricsPort;
    const speed = await scenario.speed();
    stack.push(collector);
    await Promise.all([collector.start(), speed.start(), api.start()]);
    // Short flushes and a fine mouse throttle keep the test quick and the density layer full.
    demo = await startDemoSite({ port: demoPort, collectorUrl, siteKey: SITE_KEY, snippet: { 'flush-ms': '400', 'mouse-ms': '30' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...chromiumFlags, `--user-agent=${DESKTOP_CHROME}`] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    for (const service of stack) await service.stop();
    await scenario?.tearDown();
  });

  /** A fresh visitor (own storage); `collectorRequests` records every request to the collector's ingest. */
  async function visitorPage(options: { dnt?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; collectorRequests: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    if (options.dnt) await context.addInitScript(`Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })`);
    const collectorRequests: string[] = [];
    context.on('request', (r) => {
      if (r.url().startsWith(`${collectorUrl}/v1/`)) collectorRequests.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`);
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    return { context, page, collectorRequests };
  }

  it('a visit: 5, 3 and 1 clicks, a scroll to the bottom, a form entered and left', async () => {
    const { context, page, collectorRequests } = await visitorPage();
    await page.goto(`${demo.url}/`);
    await page.waitForFunction('window.sigflow && window.sigflow.tracking === true');
    visitor = String(await page.evaluate(`localStorage.getItem('sigflow_anon')`));
    expect(visitor).toMatch(/^anon-[0-9a-f]{32}$/);
    // Some mouse travel over the hero before the clicks (the density layer).
    for (let i = 0; i <= 12; i++) {
      await page.mouse.move(200 + i * 60, 120 + i * 15);
      await page.waitForTimeout(40);
    }
    for (const c of CLICKS) for (let i = 0; i < c.times; i++) await page.click(c.selector);
    await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
    await page.waitForTimeout(400);
    await page.focus('#email');
    await page.waitForTimeout(200);
    // Leaving: the abandon goes out with the page's last beacon.
    await page.goto(`${demo.url}/thanks`);
    await page.waitForFunction('window.sigflow && window.sigflow.tracking === true');
    await page.waitForTimeout(1_500);
    expect(collectorRequests.length).toBeGreaterThan(0);
    await context.close();
  });

  it('Kafka holds exactly the events of the visit: types, element ids, page ids, scroll depths, the abandon', async () => {
    events = await readAllEvents(scenario);
    // Delivery is at least once: a batch whose answer was lost is sent again with the same
    // event ids (the layers keep the first copy). Copies must be the same event; the visit is
    // judged on distinct events.
    const byId = new Map<string, Event>();
    for (const e of events.filter((x) => x.user_id === visitor)) {
      const copy = byId.get(String(e['event_id']));
      if (copy) expect({ ...e, received_at: 0 }).toEqual({ ...copy, received_at: 0 });
      else byId.set(String(e['event_id']), e);
    }
    const mine = [...byId.values()].sort((a, b) => a.ts - b.ts);
    const described = mine.filter((e) => e.type !== 'mouse_move').map(describe1);
    const expected = [
      'page_view landing',
      ...CLICKS.flatMap((c) => Array.from({ length: c.times }, () => `element_click landing ${c.elementId}`)),
      ...[25, 50, 75, 100].map((d) => `scroll landing ${d}`),
      'form_interaction landing signup focus',
      'form_interaction landing signup abandon',
      'page_view thanks',
      ...[25, 50, 75, 100].map((d) => `scroll thanks ${d}`),
      'conversion thanks 49 USD',
    ];
    // Order within one page view depends on timers (a scroll milestone may go before a click): compare as multisets.
    expect([...described].sort()).toEqual([...expected].sort());
    // Page views and what followed them are in page order; the abandon before the next page.
    expect(described.indexOf('form_interaction landing signup abandon')).toBeLessThan(described.indexOf('page_view thanks'));
    for (const e of mine) {
      expect(e['ip']).toBe('127.0.0.1');
      expect(e['user_agent']).toBe(DESKTOP_CHROME);
      expect((e['attrs'] as Record<string, string>)['site']).toBe('demo');
    }
    const views = mine.filter((e) => e.type === 'page_view');
    expect(views.map((e) => (e['attrs'] as Record<string, string>)['url'])).toEqual([`${demo.url}/`, `${demo.url}/thanks`]);
    const moves = mine.filter((e) => e.type === 'mouse_move');
    expect(moves.length).toBeGreaterThan(5);
    for (const m of moves) expect(m['page_id']).toBe('landing');
  });

  it('the API answers the heatmap (5/9, 3/9, 1/9, ranks 1-3), scroll reach, form funnels and the mouse grid', async () => {
    const range = `from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`;
    const heatmap = await waitUntil('the heatmap of the visit', () => apiGet(`/v1/pages/landing/heatmap?${range}`), (h) => h['totalClicks'] === 9, 60_000);
    expect(heatmap['elements']).toEqual(
      CLICKS.map((c, i) => ({ elementId: c.elementId, clicks: c.times, share: c.times / 9, rank: i + 1 })),
    );
    const scroll = await waitUntil('the scroll reach', () => apiGet(`/v1/pages/landing/scroll-reach?${range}`), (s) => s['pageViews'] === 1, 30_000);
    expect(scroll['depths']).toEqual([25, 50, 75, 100].map((depth) => ({ depth, reached: 1, share: 1 })));
    const forms = await apiGet(`/v1/pages/landing/form-funnels?${range}`);
    expect(forms['forms']).toEqual([{ formId: 'signup', focus: 1, input: 0, submit: 0, abandon: 1, submitRate: 0, abandonRate: 1 }]);
    // The grid, computed here from the events' coordinates (32 px cells).
    const cells = new Map<string, number>();
    for (const m of events.filter((e) => e.user_id === visitor && e.type === 'mouse_move')) {
      const key = `${Math.floor(Number(m['x']) / 32)},${Math.floor(Number(m['y']) / 32)}`;
      cells.set(key, (cells.get(key) ?? 0) + 1);
    }
    const grid = await apiGet(`/v1/pages/landing/mouse-moves?${range}`);
    expect(grid['gridPx']).toBe(32);
    expect(new Map(grid['cells'].map((c: { cellX: number; cellY: number; moves: number }) => [`${c.cellX},${c.cellY}`, c.moves]))).toEqual(cells);
    expect(await apiGet('/v1/pages/landing')).toEqual({ pageId: 'landing', url: `${demo.url}/` });
  });

  it('the dashboard draws the page with each clicked element outlined, its share and rank on it, the density and the reach', async () => {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1200 } });
    const sent: string[] = [];
    context.on('request', (r) => {
      if (r.url().startsWith(`${collectorUrl}/v1/`)) sent.push(r.url());
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${apiPort}/#key=k&refresh=2`);
    await page.waitForSelector('#page option[value="landing"]', { state: 'attached', timeout: 30_000 });
    await page.selectOption('#page', 'landing');
    await page.waitForSelector('#heatmap-overlay[data-state="drawn"][data-page="landing"][data-outlined="3"]', { timeout: 30_000 });
    const labels = await page.locator('#hm-layer .hm-click').evaluateAll((boxes) => boxes.map((b) => [b.getAttribute('data-element-id'), b.textContent]));
    expect(labels).toEqual([
      ['cta-trial', '55.6 % #1'],
      ['learn-more', '33.3 % #2'],
      ['#pricing>div>div:nth-of-type(2)>button', '11.1 % #3'],
    ]);
    // Each outline sits on its element in the framed page, once the frame's layout has settled
    // (under load the framed page can still move after the first drawing; the dashboard redraws
    // the outlines when it does). The largest gap between an outline and its element, in px:
    const frame = page.frameLocator('#hm-frame');
    const largestGap = async () => {
      const outlines = new Map(
        await page.locator('#hm-layer .hm-click').evaluateAll((boxes) =>
          boxes.map((b) => {
            const r = b.getBoundingClientRect();
            return [b.getAttribute('data-element-id'), { x: r.x, y: r.y, width: r.width, height: r.height }] as const;
          }),
        ),
      );
      let gap = 0;
      for (const c of CLICKS) {
        const outline = outlines.get(c.elementId);
        const element = await frame.locator(c.selector).boundingBox();
        if (!outline || !element) return Infinity;
        gap = Math.max(gap, Math.abs(outline.x - element.x), Math.abs(outline.y - element.y), Math.abs(outline.width - element.width));
      }
      return gap;
    };
    await expect.poll(largestGap, { timeout: 10_000 }).toBeLessThan(3);
    expect(Number(await page.getAttribute('#hm-density', 'data-cells'))).toBeGreaterThan(0);
    expect(await page.locator('#hm-layer .hm-depth').count()).toBe(4);
    expect(await page.textContent('#hm-layer .hm-form[data-form-id="signup"]')).toBe('signup: 1 focus · 0 submit · 1 abandon');
    expect(await page.textContent('#scroll-reach-table tr[data-depth="100"]')).toContain('100.0%');
    expect(await page.textContent('#form-funnels-table tr[data-form-id="signup"]')).toContain('100.0%');
    // The framed page is shown, not tracked: its tracker loaded but sent nothing.
    expect(sent).toEqual([]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.check('#hm-whole-page');
    await page.locator('#heatmap-overlay').screenshot({ path: path.join(ARTIFACTS, 'heatmap.png') });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('an opted-out visitor sends nothing, and neither does a browser asking not to be tracked (data-respect-dnt)', async () => {
    const { context, page, collectorRequests } = await visitorPage();
    await page.goto(`${demo.url}/`);
    await page.waitForFunction('window.sigflow && window.sigflow.tracking === true');
    const user = String(await page.evaluate(`localStorage.getItem('sigflow_anon')`));
    await page.click('#opt-out');
    const at = Date.now();
    const before = collectorRequests.length;
    expect(await page.evaluate('window.sigflow.tracking')).toBe(false);
    // Everything again, on a reloaded page and the next one: the choice is remembered.
    await page.reload();
    await page.waitForFunction('window.sigflow !== undefined');
    expect(await page.evaluate('window.sigflow.tracking')).toBe(false);
    for (const c of CLICKS) await page.click(c.selector);
    await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
    await page.focus('#email');
    await page.goto(`${demo.url}/thanks`);
    await page.waitForTimeout(1_500);
    const optedOut = { user, at, requests: collectorRequests.slice(before) };
    await context.close();

    const dnt = await visitorPage({ dnt: true });
    await dnt.page.goto(`${demo.url}/`);
    await dnt.page.waitForFunction('window.sigflow !== undefined');
    expect(await dnt.page.evaluate('window.sigflow.tracking')).toBe(false);
    await dnt.page.click(CLICKS[0]!.selector);
    await dnt.page.goto(`${demo.url}/thanks`);
    await dnt.page.waitForTimeout(1_500);
    const dntRequests = dnt.collectorRequests;
    await dnt.context.close();

    expect(optedOut.requests).toEqual([]);
    expect(dntRequests).toEqual([]);
    // And Kafka has nothing of the opted-out visitor from the opt-out on.
    const after = await readAllEvents(scenario);
    expect(after.filter((e) => e.user_id === optedOut.user && e.ts >= optedOut.at)).toEqual([]);
  });
});

/** `type page detail...` of an event, for comparing a visit's events. */
function describe1(e: Event): string {
  const parts = [e.type, String(e['page_id'] ?? '-')];
  if (e.type === 'element_click') parts.push(String(e['element_id']));
  if (e.type === 'scroll') parts.push(String(e['depth']));
  if (e.type === 'form_interaction') parts.push(String(e['form_id']), String(e['action']));
  if (e.type === 'conversion') parts.push(String(e['value']), String(e['currency']));
  if (e.type === 'link_follow') parts.push(String(e['href']));
  return parts.join(' ');
}

/** Every event on the scenario's topic, once its size has not changed for 2 s. */
async function readAllEvents(scenario: Scenario): Promise<Event[]> {
  let total = -1;
  for (let stable = 0; stable < 4; ) {
    const offsets = await topicOffsets(scenario.kafka, scenario.topics.events, 'latest');
    const now = [...offsets.values()].reduce((sum, high) => sum + high, 0);
    stable = now === total ? stable + 1 : 0;
    total = now;
    await new Promise((r) => setTimeout(r, 500));
  }
  const messages = await readTopicMessages(scenario.kafka, scenario.topics.events, total);
  return messages.map((m) => JSON.parse(m.value) as Event);
}
