// The dashboard's pacing panel in a real headless Chromium against a running stack: collector,
// speed layer, bidding service and API as their own processes (as `npm start` runs them). Ops
// set two budgets through the API, an ad server's priced impressions and clicks go through the
// collector; the panel must show each campaign's status and its multipliers per channel exactly
// as `GET /v1/bidding` answers them, and draw a campaign's spend over its budget day against the
// budget line, its last point the spend the API reports.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
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
const EUR = 1_000_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

interface Answer {
  campaignId: string;
  status: string;
  spendToday: { micros: number };
  budget: { dailyBudgetMicros: number };
  channels: { channel: string; multiplier: number; reason: string }[];
}

/** `users` people each shown an ad of `campaign` on `channel` and clicking it; impressions cost `impressionCost`, clicks `clickCost`. */
function traffic(campaign: string, channel: string, users: number, costs: { impression?: number; click?: number }, now: number): SigflowEvent[] {
  const events: SigflowEvent[] = [];
  for (let u = 0; u < users; u++) {
    const touch = { user_id: `${campaign}-${channel}-u${u}`, campaign_id: campaign, ad_id: `${campaign}-${channel}`, channel, user_agent: UA, ip: `198.51.100.${u}` };
    events.push({ ...touch, event_id: `${touch.user_id}-i`, type: 'impression', ts: now - 20_000 + u, ...(costs.impression ? { cost: costs.impression } : {}) });
    events.push({ ...touch, event_id: `${touch.user_id}-k`, type: 'click', ts: now - 10_000 + u, ...(costs.click ? { cost: costs.click } : {}) });
  }
  return events;
}

describe('pacing panel in headless Chromium', () => {
  const key = randomBytes(18).toString('base64url');
  let scenario: Scenario;
  let api: ServiceProcess;
  let dashboard: DashboardBrowser | undefined;
  let page: Page;
  const run = randomBytes(3).toString('hex');
  const [steady, spent] = [`cmp-steady-${run}`, `cmp-spent-${run}`];
  const apiGet = async <T>(url: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, { headers: { 'x-api-key': key } })).json()) as T;

  beforeAll(async () => {
    await ensureChromium();
    scenario = new Scenario('pacing-dash', { ...oneServerProcess, SIGFLOW_API_KEYS: `${key}:ops` });
    await scenario.setUp();
    const collector = await scenario.collector();
    const speed = await scenario.speed();
    const bidding = await scenario.bidding();
    api = await scenario.api();
    await Promise.all([collector.start(), speed.start(), bidding.start(), api.start()]);
    await speed.ready();
    const put = async (campaign: string, budget: object) =>
      expect((await fetch(`http://127.0.0.1:${api.metricsPort}/v1/campaigns/${campaign}/budget`, { method: 'PUT', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(budget) })).status).toBe(200);
    await put(steady, { dailyBudgetMicros: 1_000_000 * EUR, timeZone: 'Europe/Berlin', targetRoas: 2 });
    await put(spent, { dailyBudgetMicros: 5 * EUR, timeZone: 'Asia/Tokyo' });
    const now = Date.now();
    // steady: 25 search clicks at 0.40 EUR (CPC) and 15 display impressions at 0.003 EUR (CPM, its
    // 15 clicks free: fewer than 20, too few for a multiplier); spent: 10 clicks at 1 EUR, twice its budget of 5.
    const events = [...traffic(steady, 'search', 25, { click: 400_000 }, now), ...traffic(steady, 'display', 15, { impression: 3_000 }, now), ...traffic(spent, 'search', 10, { click: EUR }, now)];
    const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(202);
    await waitUntil('both campaigns computed with their spend', () => apiGet<{ campaigns: Answer[] }>('/v1/bidding'), (b) => b.campaigns.length === 2 && b.campaigns.every((c) => c.spendToday.micros > 0), 60_000, 250);
    dashboard = await openDashboard(`http://127.0.0.1:${api.metricsPort}/#key=${key}&refresh=1`);
    page = dashboard.page;
  }, 300_000);

  afterAll(async () => {
    await dashboard?.close();
    await scenario?.tearDown();
  });

  it('lists each budgeted campaign with its status and per-channel multipliers as GET /v1/bidding answers them', async () => {
    await page.waitForSelector(`#pacing-table tr[data-campaign-id="${spent}"][data-status="exhausted"]`, { timeout: 30_000 });
    await page.waitForSelector(`#pacing-table tr[data-campaign-id="${steady}"]`);
    const answers = (await apiGet<{ campaigns: Answer[] }>('/v1/bidding')).campaigns;
    for (const answer of answers) {
      const row = page.locator(`#pacing-table tr[data-campaign-id="${answer.campaignId}"]`);
      expect(await row.getAttribute('data-status')).toBe(answer.status);
      const chips = await row.locator('[data-channel]').evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-channel'), Number(n.getAttribute('data-multiplier')), n.getAttribute('data-reason')]));
      expect(chips).toEqual(answer.channels.map((c) => [c.channel, c.multiplier, c.reason]));
    }
    const exhausted = answers.find((a) => a.campaignId === spent)!;
    expect(exhausted.channels).toEqual([expect.objectContaining({ channel: 'search', multiplier: 0, reason: 'exhausted' })]);
    expect(await page.textContent(`#pacing-table tr[data-campaign-id="${spent}"]`)).toContain('10.00 of 5.00');
    const steadyAnswer = answers.find((a) => a.campaignId === steady)!;
    expect(steadyAnswer.channels.map((c) => [c.channel, c.reason])).toEqual([
      ['display', 'insufficient_data'],
      ['search', 'roas_and_pace'],
    ]);
  });

  it('draws a campaign spend over its budget day against the budget line, ending at the spend the API reports', async () => {
    for (const campaign of [steady, spent]) {
      await page.selectOption('#pacing-campaign', campaign);
      await page.waitForSelector(`#pacing-chart[data-state="ready"][data-campaign-id="${campaign}"]`, { timeout: 15_000 });
      const answer = await apiGet<Answer>(`/v1/bidding/${campaign}`);
      expect(Number(await page.getAttribute('#pacing-chart', 'data-spend'))).toBe(answer.spendToday.micros);
      expect(Number(await page.getAttribute('#pacing-chart', 'data-budget'))).toBe(answer.budget.dailyBudgetMicros);
      expect(await page.locator('#pacing-chart path.series').count()).toBe(3);
    }
    // 25 x 0.40 + 15 x 0.003 = 10.045 EUR for steady.
    expect((await apiGet<Answer>(`/v1/bidding/${steady}`)).spendToday.micros).toBe(10_045_000);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#pacing-panel').screenshot({ path: path.join(ARTIFACTS, 'dashboard-pacing-panel.png') });
    expect(dashboard?.problems).toEqual([]);
  });
});
