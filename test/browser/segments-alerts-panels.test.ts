// The dashboard's segment and alert panels in a real headless Chromium against a running stack:
// collector, speed layer, alerts service and API as their own processes. Ops define two segments
// and an alert rule through the API; traffic through the collector puts crawlers (invalid
// traffic) into one campaign's window. The segment panel must show each segment's members as
// the traffic implies (every crawler is flagged, every visitor a reader) with one line per
// segment; the alert panel must show the one episode that fired, delivered to a local webhook.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { SigflowEvent } from '@sigflow/events';
import { ensureChromium } from '../../infra/lib/chromium.mjs';
import { openDashboard, type DashboardBrowser } from '../support/dashboard-browser.js';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import { repoRoot, type ServiceProcess } from '../support/services.js';

const ARTIFACTS = path.join(repoRoot, 'test/artifacts');
const MIN = 60_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** `n` people (or crawlers) of campaign `campaign` at `ts`: an impression and a page view each. */
function visits(campaign: string, who: string, n: number, ts: number, ua: string): SigflowEvent[] {
  const events: SigflowEvent[] = [];
  for (let u = 0; u < n; u++) {
    const user_id = `${who}-${u}`;
    events.push({ event_id: `${user_id}-i-${ts}`, type: 'impression', user_id, ts: ts + u, campaign_id: campaign, ad_id: `${campaign}-ad`, channel: 'display', user_agent: ua, ip: `198.51.100.${u}` });
    events.push({ event_id: `${user_id}-p-${ts}`, type: 'page_view', user_id, ts: ts + 100 + u, page_id: 'home', user_agent: ua, ip: `198.51.100.${u}` });
  }
  return events;
}

describe('segment and alert panels in headless Chromium', () => {
  const key = randomBytes(18).toString('base64url');
  const run = randomBytes(3).toString('hex');
  const campaign = `cmp-${run}`;
  let scenario: Scenario;
  let api: ServiceProcess;
  let collector: ServiceProcess;
  let dashboard: DashboardBrowser | undefined;
  let page: Page;
  let hook: http.Server;
  const delivered: string[] = [];
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> =>
    (await (await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })).json()) as T;
  const send = async (events: SigflowEvent[]) => expect((await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) })).status).toBe(202);

  beforeAll(async () => {
    await ensureChromium();
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        delivered.push(String((JSON.parse(body) as { event: string }).event));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    scenario = new Scenario('segments-dash', { ...oneServerProcess, SIGFLOW_API_KEYS: `${key}:ops`, SIGFLOW_ALERTS_WEBHOOK_ALLOW: '127.0.0.0/8', SIGFLOW_ALERTS_POLL_MS: '200', SIGFLOW_ALERTS_IDLE_PARTITION_MS: '3000', SIGFLOW_SEGMENTS_REFRESH_MS: '200' });
    await scenario.setUp();
    collector = await scenario.collector();
    const speed = await scenario.speed();
    const alerts = await scenario.alerts();
    api = await scenario.api();
    await Promise.all([collector.start(), speed.start(), alerts.start(), api.start()]);
    await speed.ready();
    await call('PUT', '/v1/segments/flagged', { rule: { all: [{ feature: 'flagged', op: '==', value: true }] } });
    await call('PUT', '/v1/segments/readers', { rule: { all: [{ feature: 'count:page_view:1h', op: '>=', value: 1 }] } });
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the speed layer has the definitions (5 refreshes)
    await call('PUT', '/v1/alerts/rules/crawlers', { metric: 'invalid_share', campaign, condition: { op: '>=', threshold: 0.5 }, for: 1, webhook: { url, secret: 'dashboard-test-secret' } });

    // Window W0: people only. Once the alerts service has evaluated a window, W1: 8 crawlers and
    // 4 people (2/3 of the impressions invalid); then a visit in W3 closes W1 (and W2, empty).
    const w0 = Math.floor((Date.now() - 10 * MIN) / MIN) * MIN;
    await send([...visits(campaign, `people-${run}`, 6, w0, UA), ...visits(campaign, `early-${run}`, 1, w0 + 2 * MIN, UA)]);
    await waitUntil('the first alert evaluation', () => scenario.redis.get(scenario.keys.alertsEvaluated()), (v) => v !== null, 60_000, 200);
    await send([...visits(campaign, `bots-${run}`, 8, w0 + 3 * MIN, BOT), ...visits(campaign, `more-${run}`, 4, w0 + 3 * MIN + 500, UA)]);
    await send(visits(campaign, `late-${run}`, 1, w0 + 5 * MIN, UA));
    await waitUntil('the alert delivered', async () => delivered, (d) => d.includes('alert.fired'), 60_000, 200);

    dashboard = await openDashboard(`http://127.0.0.1:${api.metricsPort}/#key=${key}&refresh=1`, { width: 1280, height: 1600 });
    page = dashboard.page;
  }, 300_000);

  afterAll(async () => {
    await dashboard?.close();
    await scenario?.tearDown();
    await new Promise((resolve) => hook?.close(resolve));
  });

  it('shows each segment with its members now, one line per segment over time', async () => {
    // The 8 crawlers are flagged; the 6 + 1 + 4 + 1 people read (the crawlers' page views are invalid).
    await page.waitForSelector('#segments-table tr[data-segment="flagged"][data-size="8"]', { timeout: 30_000 });
    await page.waitForSelector('#segments-table tr[data-segment="readers"][data-size="12"]', { timeout: 30_000 });
    await page.waitForSelector('#segments-chart[data-state="ready"][data-segments="2"]');
    expect(await page.locator('#segments-chart path.series').count()).toBe(2);
    const sizes = await call<{ rows: { size: number }[] }>('GET', `/v1/segments/flagged/size?from=${Date.now() - 3 * 3_600_000}&to=${Date.now()}&granularity=hour`);
    expect(sizes.rows.at(-1)?.size).toBe(8);
    expect(await page.textContent('#segments-table tr[data-segment="flagged"]')).toContain('flagged == true');
  });

  it('lists the firing alert with its delivery', async () => {
    await page.waitForSelector('#alerts-table tr[data-rule="crawlers"][data-state="firing"]', { timeout: 30_000 });
    const row = await page.textContent('#alerts-table tr[data-rule="crawlers"]');
    expect(row).toContain(campaign);
    expect(row).toContain('invalid_share >= 0.5 for 1');
    expect(row).toContain('fired: delivered (1 attempt)');
    expect(await page.textContent('#alerts-summary')).toMatch(/^1 firing, 0 resolved/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#segments-panel').screenshot({ path: path.join(ARTIFACTS, 'dashboard-segments-panel.png') });
    await page.locator('#alerts-panel').screenshot({ path: path.join(ARTIFACTS, 'dashboard-alerts-panel.png') });
    expect(dashboard?.problems).toEqual([]);
  });
});
