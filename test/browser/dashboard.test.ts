// The dashboard in a real headless Chromium against a running stack: collector, speed layer,
// archiver, batch worker and API run as their own processes (as `npm start` runs them), and the
// generator sends the last 150 minutes of traffic through the collector over HTTP. The page must
// draw the CTR chart from the merged views; a user the test sent events for is looked up in the
// user panel; ops then reprocess the closed hours with the page's own form (progress seen
// moving, the hours served from batch), train the attribution models from the page (the header
// names the Shapley version); a reader key sees no job control and an analyst's job request is
// refused. One stack and one browser for every case.
import { hourStart } from '@sigflow/core';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import type { Page } from 'playwright-core';
import type { SigflowEvent } from '@sigflow/events';
import type { SigflowConfig } from '@sigflow/config';
import { EventStream, HttpSink, runGenerator } from '@sigflow/loadgen';
import { readArchiveWatermarks } from '@sigflow/store/batch';
import { archiveSealedThrough } from '@sigflow/archive';
import { CHROMIUM, ensureChromium } from '../../infra/lib/chromium.mjs';
import { freePort } from '../../infra/lib/process.mjs';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import { ServiceProcess, repoRoot } from '../support/services.js';

const ARTIFACTS = path.join(repoRoot, 'test/artifacts');
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('dashboard in headless Chromium', () => {
  const key = randomBytes(18).toString('base64url');
  const readerKey = randomBytes(18).toString('base64url');
  const analystKey = randomBytes(18).toString('base64url');
  let scenario: Scenario;
  let archiveDir: string;
  const stack: ServiceProcess[] = [];
  let config: SigflowConfig;
  let api: ServiceProcess;
  /** The closed hours of the traffic, [from, to): what ops reprocess from the page. */
  let closed: { from: number; to: number };
  let browser: BrowserContext | undefined;
  let page: Page;
  const problems: string[] = [];
  let profileDir: string;
  let port: number;
  let collectorUrl: string;
  /** The job id the first reprocess from the page got (the next one waits for another). */
  let lastReprocessId: string | null = null;

  /** The API's answer with a key (the numbers the page must show). */
  const apiGet = async (url: string, withKey = key) => {
    const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers: { 'x-api-key': withKey } });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field by the assertions
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const apiPost = async (url: string, payload: unknown, withKey = key) =>
    (await fetch(`http://127.0.0.1:${port}${url}`, { method: 'POST', headers: { 'x-api-key': withKey, 'content-type': 'application/json' }, body: JSON.stringify(payload) })).status;

  beforeAll(async () => {
    await ensureChromium();
    port = await freePort();
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-dash-archive-'));
    // Idle partitions' archive watermarks follow the clock closely (5 s), so the last closed hour
    // is sealed soon after it ends (see the wait below).
    scenario = new Scenario('dash', {
      ...oneServerProcess,
      SIGFLOW_API_PORT: String(port),
      SIGFLOW_API_KEYS: `${key}:ops,${readerKey}:reader,${analystKey}:analyst`,
      SIGFLOW_ARCHIVE_DIR: archiveDir,
      SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS: '5000',
    });
    await scenario.setUp();
    config = scenario.config;
    const collectorPort = await freePort();
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const collector = new ServiceProcess(`collector-dash-${scenario.id}`, 'services/collector/dist/main.js', { ...scenario.env, SIGFLOW_COLLECTOR_PORT: String(collectorPort) }, collectorPort);
    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    // Its schedulers stay out of the way (once a year): only the page's jobs run. One hour per
    // pass, so a reprocess of two hours reports progress between its passes.
    const batch = await scenario.batchWorker(archiveDir, 'batch', {
      SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *',
      SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
      SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
      SIGFLOW_BATCH_HOURS_PER_PASS: '1',
    });
    api = new ServiceProcess(`api-dashboard-${scenario.id}`, 'services/api/dist/main.js', scenario.env, port);
    stack.push(collector, api);
    await Promise.all([collector.start(), speed.start(), archiver.start(), batch.start(), api.start()]);

    // The last 150 minutes of traffic through the collector, as browsers and ad servers send it:
    // two or three closed hours whatever the minute the suite starts at, so a reprocess from the
    // page always has a pass between its first and last progress report (one hour per pass).
    const now = Date.now();
    const sink = new HttpSink({ url: collectorUrl });
    const stream = new EventStream({ seed: 5, events: 40_000, start: now - 150 * 60_000, span: 149 * 60_000, partitions: 4, campaigns: 4, duplicates: 0.02, bots: 0.02, orphans: 0.01, rules: config.rules });
    const run = await runGenerator({ stream, sink, truth: true });
    await sink.close();
    expect(run.failed).toBe(0);
    const sent = run.truth!.toJSON().totals.sent;
    await waitUntil('the speed layer to process the traffic', () => scenario.speedCounters(), (c) => (c['events'] ?? 0) + (c['duplicates'] ?? 0) >= sent, 120_000);
    await waitUntil('the archiver to commit the traffic', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 120_000);
    closed = { from: hourStart(now - 150 * 60_000), to: hourStart(now) };
    // Started within a minute or so after the hour, the last closed hour ended moments ago and
    // is not sealed yet (watermark delay and allowed lateness after it): a reprocess then leaves
    // it to speed. Wait until the archive is sealed through it, by the batch worker's own rule.
    const sealedThrough = async () => archiveSealedThrough(await readArchiveWatermarks(scenario.redis, scenario.keys, scenario.topics.events), config.rules);
    await waitUntil('the archive to seal the closed hours', sealedThrough, (t) => t !== null && t >= closed.to, 180_000);
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-chromium-'));
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: chromiumFlags, viewport: { width: 1280, height: 1500 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    watchProblems(page, problems);
    await page.goto(`http://127.0.0.1:${port}/#key=${key}&refresh=2`);
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    for (const service of stack) await service.stop();
    await scenario?.tearDown();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('draws live CTR, attribution, reconciliation, heatmap and jobs from speed views', async () => {
    await page.waitForSelector('#ctr-chart[data-state="ready"]', { timeout: 60_000 });
    expect(Number(await page.getAttribute('#ctr-chart', 'data-points'))).toBeGreaterThan(10);
    expect(await page.locator('#ctr-chart path.series').count()).toBeGreaterThan(0);
    // The key left the address bar.
    expect(page.url()).not.toContain(key);
    await page.waitForSelector('#attribution-chart[data-state="ready"]');
    await page.waitForSelector('#recon-chart[data-state="ready"]');
    await waitUntil('heatmap rows', () => page.locator('#heatmap-table tbody tr').count(), (n) => n > 0, 30_000);
    expect(await page.textContent('#role')).toBe('role: ops');
    // Before any batch job: every number is a speed number, and no Shapley table yet.
    expect(await page.textContent('#status')).toContain('batch watermark none');
    expect(await page.textContent('#shapley-version')).toContain('none yet');
    expect(await page.locator('#campaign-table .src-speed').count()).toBeGreaterThan(0);
    expect(await page.locator('#campaign-table .src-batch').count()).toBe(0);
  });

  it('the user panel shows the profile and newest-first signals of a user the test sent events for, as the API answers them', async () => {
    const user = `dash-user-${scenario.id}`;
    const events = userHistory(user, Date.now() - 20 * 60_000);
    const res = await fetch(`${collectorUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBeLessThan(300);
    const signalsUrl = `/v1/users/${user}/signals?includeInvalid=true&limit=50`;
    await waitUntil('the speed layer to hold the user', async () => (await apiGet(signalsUrl)).body['count'], (n) => n === events.length, 60_000);

    // The user is the speed layer's latest: a recent-user chip, clicked.
    await page.locator(`#recent-users [data-user-id="${user}"]`).click({ timeout: 30_000 });
    await page.waitForSelector(`#user-result[data-state="ready"][data-user-id="${user}"]`, { timeout: 15_000 });
    const [profile, signals] = [(await apiGet(`/v1/users/${user}/profile`)).body, (await apiGet(signalsUrl)).body];
    const field = (name: string) => page.getAttribute(`#user-result [data-field="${name}"]`, 'data-value');
    expect(Number(await field('sessions'))).toBe(profile['sessions'].length);
    expect(Number(await field('conversions'))).toBe(profile['conversions'].count);
    expect(profile['conversions'].count).toBe(1);
    expect(await field('last-touch')).toBe(profile['lastTouch'].event_id);
    expect(Number(await field('half-life'))).toBe(profile['engagement'].halfLifeMs);
    expect(Number(await field('engagement'))).toBeCloseTo(profile['engagement'].score, 3);
    expect(await page.textContent('#user-result [data-field="engagement"] strong')).toBe(profile['engagement'].score.toFixed(3));

    // Every signal, newest first, in the API's order; the bot impression marked invalid by its reason.
    const rows = page.locator('#user-signals tbody tr');
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-event-id'), tr.querySelector('[data-reason]')?.getAttribute('data-reason') ?? null]));
    expect(shown).toEqual(signals['signals'].map((s: { event_id: string; reason: string | null }) => [s.event_id, s.reason]));
    expect(shown.map(([id]) => id)).toEqual([...events].sort((a, b) => b.ts - a.ts).map((e) => e.event_id));
    expect(shown.filter(([, reason]) => reason !== null)).toEqual([[`${user}-bot`, 'bot']]);
    expect(await page.textContent('#user-curl')).toContain(`http://127.0.0.1:${port}/v1/users/${user}/profile`);
    expect(await page.textContent('#user-result .curl')).toContain('has role ops');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#user-panel').screenshot({ path: path.join(ARTIFACTS, 'dashboard-user-panel.png') });
  });

  it('a reprocess from the page previews its hours and rows, shows its progress moving, completes, and the hours are served from batch', async () => {
    await page.waitForSelector('#job-controls:not([hidden])');
    await page.fill('#reprocess-from', isoMinute(closed.from));
    await page.fill('#reprocess-to', isoMinute(closed.to));
    const preview = (await apiGet(`/v1/jobs/reprocess/preview?from=${closed.from}&to=${closed.to}`)).body;
    // The traffic covers the last 150 minutes: every closed hour (two or three, by the minute the suite starts at) has archive files.
    const closedHours = (closed.to - closed.from) / 3_600_000;
    expect(preview).toMatchObject({ hours: closedHours, archivedHours: closedHours });
    await page.waitForSelector(`#reprocess-preview[data-rows="${preview['rows']}"][data-hours="${preview['hours']}"]`, { timeout: 10_000 });
    expect(preview['rows']).toBeGreaterThan(1_000);

    await recordProgress(page);
    await page.click('#reprocess-submit');
    const jobId = await waitUntil('the page to show the new job id', () => dataOf(page, '#reprocess-result', 'data-job-id'), (id) => id !== null, 30_000);
    lastReprocessId = jobId;
    await page.waitForSelector(`#job-live[data-job-id="${jobId}"][data-state="completed"]`, { timeout: 180_000 });
    const seen = (await page.evaluate('window.seenProgress')) as string[];
    const percents = seen.map((p) => Number(JSON.parse(p).percent));
    expect(percents.some((p) => p > 0 && p < 100), `progress seen: ${seen.join(' ')}`).toBe(true);
    expect(percents.at(-1)).toBe(100);
    expect(await page.getAttribute('#job-live', 'data-hours-done')).toBe(String(preview['hours']));
    expect(await page.textContent('#job-live .outcome')).toMatch(new RegExp(`${closedHours} ${closedHours === 1 ? 'hour' : 'hours'} recomputed, [\\d,]+ rows read`));
    const row = await waitUntil('the job in the job list', () => page.locator(`#jobs-table tr[data-job-id="${jobId}"][data-state="completed"]`).textContent({ timeout: 5_000 }).catch(() => null), (t) => t !== null, 30_000);
    expect(row).toMatch(/"requestedBy":"api:key-[0-9a-f]{12}"/);

    // The served views changed: those hours come from batch now, on the page and in the API.
    const campaign = (await apiGet('/v1/campaigns')).body['campaigns'][0];
    const hours = (await apiGet(`/v1/campaigns/${campaign}/metrics?from=${closed.from}&to=${closed.to}&granularity=hour`)).body['rows'];
    expect(hours.map((r: { source: string }) => r.source)).toEqual(Array.from({ length: closedHours }, () => 'batch'));
    // The page shows the last hour: a suite started just before an hour is past the closed hours
    // by now, so a second tab whose clock stands in the last minute of those hours reads them.
    const probe = await browser!.newPage();
    watchProblems(probe, problems);
    await probe.clock.setFixedTime(closed.to - 60_000);
    await probe.goto(`http://127.0.0.1:${port}/#key=${key}&refresh=2`);
    await waitUntil('batch numbers on the page', () => probe.locator('#campaign-table .src-batch').count(), (n) => n > 0, 30_000);
    expect(await probe.locator('#campaign-table .src-speed').count()).toBe(0);
    await probe.close();
    const status = await page.textContent('#status');
    expect(Date.parse(`${/batch watermark (\S+ \S+) UTC/.exec(status ?? '')?.[1]?.replace(' ', 'T')}Z`)).toBeGreaterThanOrEqual(closed.from + 3_600_000);
  });

  it("a reprocess longer than a part is one row of the page's job list: its parts are not listed", async () => {
    // Five hours two days back (no traffic there): more than SIGFLOW_BATCH_HOURS_PER_PART (4), so it fans out.
    const from = hourStart(closed.from - 2 * 86_400_000);
    await page.fill('#reprocess-from', isoMinute(from));
    await page.fill('#reprocess-to', isoMinute(from + 5 * 3_600_000));
    await page.click('#reprocess-submit');
    const jobId = await waitUntil('the long reprocess job id', () => dataOf(page, '#reprocess-result', 'data-job-id'), (id) => id !== null && id !== lastReprocessId, 30_000);
    await page.waitForSelector(`#jobs-table tr[data-job-id="${jobId}"][data-state="completed"]`, { timeout: 120_000 });
    const listed = (await apiGet('/v1/jobs?limit=50')).body['jobs'] as { id: string; parentId: string | null }[];
    const parts = listed.filter((j) => j.parentId === jobId).map((j) => j.id);
    expect(parts).toHaveLength(2);
    const rows = await page.locator('#jobs-table tr[data-job-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job-id')));
    expect(rows).toContain(jobId);
    expect(rows.filter((id) => parts.includes(id as string))).toEqual([]);
  });

  it('a training from the page publishes a Shapley table the header names, with its coalitions', async () => {
    await page.click('#train-submit');
    const jobId = await waitUntil('the training job id', () => dataOf(page, '#train-result', 'data-job-id'), (id) => id !== null, 30_000);
    await page.waitForSelector(`#job-live[data-job-id="${jobId}"][data-state="completed"]`, { timeout: 180_000 });
    const version = (await apiGet('/v1/status')).body['shapleyVersion'];
    expect(version).toMatch(/^s\d{8}T\d{2}-[0-9a-f]{10}$/);
    await page.waitForSelector(`#shapley-version[data-version="${version}"]`, { timeout: 15_000 });
    expect(await page.textContent('#shapley-version')).toMatch(new RegExp(`Shapley table ${version}, trained on .+ UTC`));
    const table = (await apiGet('/v1/attribution/shapley?largest=12')).body;
    await page.waitForSelector(`#shapley-table[data-version="${version}"]`, { timeout: 15_000 });
    const coalitions = await page.locator('#shapley-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-coalition')));
    expect(coalitions).toEqual(table['coalitions'].map((c: { channels: string[] }) => c.channels.join('+')));
    expect(coalitions.length).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.locator('#job-controls').locator('..').screenshot({ path: path.join(ARTIFACTS, 'dashboard-ops-panel.png') });
    expect(problems).toEqual([]);
  });

  it('a reader key sees no job control; an analyst key is refused job requests (403)', async () => {
    const readerPage = await browser!.newPage();
    const readerProblems: string[] = [];
    watchProblems(readerPage, readerProblems);
    try {
      await readerPage.goto(`http://127.0.0.1:${port}/#key=${readerKey}&refresh=2`);
      await waitUntil('the reader role in the header', () => readerPage.textContent('#role'), (t) => t === 'role: reader', 15_000);
      await readerPage.waitForSelector('#recent-users [data-user-id]', { timeout: 15_000 });
      expect(await readerPage.locator('#job-controls').isHidden()).toBe(true);
      expect(await readerPage.locator('#reprocess-submit').isVisible()).toBe(false);
      expect(await readerPage.locator('#train-submit').isVisible()).toBe(false);
      expect(await readerPage.textContent('#jobs-table')).toContain('the reader role cannot see jobs');
      expect(readerProblems).toEqual([]);
    } finally {
      await readerPage.close();
    }
    expect(await apiPost('/v1/jobs/reprocess', { from: closed.from, to: closed.to }, analystKey)).toBe(403);
    expect(await apiPost('/v1/jobs/train', {}, analystKey)).toBe(403);
    expect(await apiPost('/v1/jobs/reprocess', { from: closed.from, to: closed.to }, readerKey)).toBe(403);
  });
});

/** Collects page errors and console errors. */
function watchProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
}

/** Records every progress the page's live job view shows (a MutationObserver: no sample is missed). */
async function recordProgress(page: Page): Promise<void> {
  // A string: the test workspace compiles without the DOM library.
  await page.evaluate(`(() => {
    window.seenProgress = [];
    const node = document.getElementById('job-live');
    new MutationObserver(() => {
      const p = JSON.stringify({ percent: node.dataset.percent, state: node.dataset.state });
      if (node.dataset.percent !== undefined && window.seenProgress.at(-1) !== p) window.seenProgress.push(p);
    }).observe(node, { attributes: true });
  })()`);
}

/** One user's 20 minutes: impressions and clicks on two channels, a bot impression, a conversion. */
function userHistory(user: string, t0: number): SigflowEvent[] {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
  const tp = (channel: string) => ({ campaign_id: 'dash-c', ad_id: `dash-${channel}`, channel, user_agent: ua });
  return [
    { event_id: `${user}-i1`, type: 'impression', user_id: user, ts: t0, ...tp('search') },
    { event_id: `${user}-c1`, type: 'click', user_id: user, ts: t0 + 5_000, ...tp('search') },
    { event_id: `${user}-bot`, type: 'impression', user_id: user, ts: t0 + 60_000, ...tp('social'), user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' },
    { event_id: `${user}-i2`, type: 'impression', user_id: user, ts: t0 + 120_000, ...tp('social') },
    { event_id: `${user}-p1`, type: 'page_view', user_id: user, ts: t0 + 180_000, page_id: 'dash-page', user_agent: ua },
    { event_id: `${user}-v1`, type: 'conversion', user_id: user, ts: t0 + 240_000, value: 42, user_agent: ua },
  ];
}

/** `2026-11-20T10:00Z`: the form the page's inputs show as an example. */
function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

/** A data attribute of the first element matching `selector`; null when there is none (yet). */
async function dataOf(page: Page, selector: string, attribute: string): Promise<string | null> {
  const node = page.locator(selector).first();
  try {
    return (await node.count()) > 0 ? await node.getAttribute(attribute, { timeout: 1_000 }) : null;
  } catch {
    return null; // redrawn between the two calls (the page redraws every 2 s)
  }
}
