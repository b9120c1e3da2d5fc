// The dashboard in a real headless Chromium against a running stack: collector, speed layer,
// archiver, batch worker and API run as their own processes (as `npm start` runs them), and the
// generator sends the last 90 minutes of traffic through the collector over HTTP. The page must
// draw the CTR chart from the merged views; ops then reprocess the closed hours with the page's
// own form, and the test waits for that job to complete and for the page to serve batch numbers.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import type { Page } from 'playwright-core';
import type { SigflowConfig } from '@sigflow/config';
import { EventStream, HttpSink, runGenerator } from '@sigflow/loadgen';
import { hourStart } from '@sigflow/store';
import { CHROMIUM, ensureChromium } from '../../infra/lib/chromium.mjs';
import { freePort } from '../../infra/lib/process.mjs';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario } from '../support/scenario.js';
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
  let scenario: Scenario;
  let archiveDir: string;
  const stack: ServiceProcess[] = [];
  let config: SigflowConfig;
  let api: ServiceProcess;
  /** The closed hours of the traffic, [from, to): what ops reprocess from the page. */
  let closed: { from: number; to: number };
  let browser: BrowserContext | undefined;
  let profileDir: string;
  let port: number;

  beforeAll(async () => {
    await ensureChromium();
    port = await freePort();
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-dash-archive-'));
    // Idle partitions' archive watermarks follow the clock closely, so the last closed hour is
    // sealed by the time the page's job runs, whatever the minute the suite starts at.
    scenario = new Scenario('dash', {
      SIGFLOW_API_PORT: String(port),
      SIGFLOW_API_KEYS: `${key}:ops`,
      SIGFLOW_ARCHIVE_DIR: archiveDir,
      SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS: '5000',
    });
    await scenario.setUp();
    config = scenario.config;
    const collectorPort = await freePort();
    const collector = new ServiceProcess(`collector-dash-${scenario.id}`, 'services/collector/dist/main.js', { ...scenario.env, SIGFLOW_COLLECTOR_PORT: String(collectorPort) }, collectorPort);
    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    // Its schedulers stay out of the way (once a year): only the page's job recomputes.
    const batch = await scenario.batchWorker(archiveDir, 'batch', { SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *', SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *' });
    api = new ServiceProcess(`api-dashboard-${scenario.id}`, 'services/api/dist/main.js', scenario.env, port);
    stack.push(collector, api);
    await Promise.all([collector.start(), speed.start(), archiver.start(), batch.start(), api.start()]);

    // The last 90 minutes of traffic through the collector, as browsers and ad servers send it.
    const now = Date.now();
    const sink = new HttpSink({ url: `http://127.0.0.1:${collectorPort}` });
    const stream = new EventStream({ seed: 5, events: 15_000, start: now - 90 * 60_000, span: 89 * 60_000, partitions: 4, campaigns: 4, duplicates: 0.02, bots: 0.02, orphans: 0.01, rules: config.rules });
    const run = await runGenerator({ stream, sink, truth: true });
    await sink.close();
    expect(run.failed).toBe(0);
    const sent = run.truth!.toJSON().totals.sent;
    await waitUntil('the speed layer to process the traffic', () => scenario.speedCounters(), (c) => (c['events'] ?? 0) + (c['duplicates'] ?? 0) >= sent, 120_000);
    await waitUntil('the archiver to commit the traffic', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 120_000);
    closed = { from: hourStart(now - 90 * 60_000), to: hourStart(now) };
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-chromium-'));
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    for (const service of stack) await service.stop();
    await scenario?.tearDown();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('draws live CTR, attribution, reconciliation, heatmap and jobs; a reprocess from the page completes and batch numbers appear', async () => {
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1280, height: 1500 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    await page.goto(`http://127.0.0.1:${port}/#key=${key}&refresh=2`);

    await page.waitForSelector('#ctr-chart[data-state="ready"]', { timeout: 60_000 });
    expect(Number(await page.getAttribute('#ctr-chart', 'data-points'))).toBeGreaterThan(10);
    expect(await page.locator('#ctr-chart path.series').count()).toBeGreaterThan(0);
    // The key left the address bar.
    expect(page.url()).not.toContain(key);
    await page.waitForSelector('#attribution-chart[data-state="ready"]');
    await page.waitForSelector('#recon-chart[data-state="ready"]');
    await waitUntil('heatmap rows', () => page.locator('#heatmap-table tbody tr').count(), (n) => n > 0, 30_000);
    expect(await page.textContent('#role')).toBe('role: ops');
    // Before any batch job: every number is a speed number.
    expect(await page.textContent('#status')).toContain('batch watermark none');
    expect(await page.locator('#campaign-table .src-speed').count()).toBeGreaterThan(0);
    expect(await page.locator('#campaign-table .src-batch').count()).toBe(0);

    // Ops reprocess the closed hours with the page's form (POST /v1/jobs/reprocess with the page's key).
    await page.waitForSelector('#reprocess-form:not([hidden])');
    await page.fill('#reprocess-from', isoMinute(closed.from));
    await page.fill('#reprocess-to', isoMinute(closed.to));
    await page.click('#reprocess-submit');
    const jobId = await waitUntil('the page to show the new job id', () => dataOf(page, '#reprocess-result', 'data-job-id'), (id) => id !== null, 30_000);
    const state = await waitUntil('the job to finish in the job list', () => dataOf(page, `#jobs-table tr[data-job-id="${jobId}"]`, 'data-state'), (s) => s === 'completed' || s === 'failed', 180_000);
    const row = await page.textContent(`#jobs-table tr[data-job-id="${jobId}"]`);
    expect({ state, row }).toMatchObject({ state: 'completed', row: expect.stringContaining('recompute') });
    expect(row).toMatch(/"requestedBy":"api:key-[0-9a-f]{12}"/);

    // The served views changed: the recomputed hours are batch now, and the batch watermark is past them.
    await waitUntil('batch numbers on the page', () => page.locator('#campaign-table .src-batch').count(), (n) => n > 0, 30_000);
    expect(await page.locator('#campaign-table .src-speed').count()).toBeGreaterThan(0);
    const status = await page.textContent('#status');
    expect(status).toMatch(/batch watermark \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    expect(Date.parse(`${/batch watermark (\S+ \S+) UTC/.exec(status ?? '')?.[1]?.replace(' ', 'T')}Z`)).toBeGreaterThanOrEqual(closed.from + 3_600_000);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});

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
