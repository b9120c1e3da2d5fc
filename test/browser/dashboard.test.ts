// The dashboard in a real headless Chromium against a running stack: collector, speed layer,
// archiver and API run as their own processes (as `npm start` runs them), the generator sends
// the last 90 minutes of traffic through the collector over HTTP, and the batch layer recomputes
// the closed hours from the archive. The page must draw the CTR chart from the merged views.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SigflowConfig } from '@sigflow/config';
import { recomputeHours } from '@sigflow/batch';
import { EventStream, HttpSink, runGenerator } from '@sigflow/loadgen';
import { createRedis, hourStart } from '@sigflow/store';
import { freePort } from '../../infra/lib/process.mjs';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario } from '../support/scenario.js';
import { ServiceProcess, repoRoot } from '../support/services.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(repoRoot, 'test/artifacts');
const HOUR = 3_600_000;
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

/** Installs the Debian chromium package when it is missing (CI starts from a clean machine; we run as root). */
function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (!fs.existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
}

describe('dashboard in headless Chromium', () => {
  const key = randomBytes(18).toString('base64url');
  let scenario: Scenario;
  let archiveDir: string;
  const stack: ServiceProcess[] = [];
  let config: SigflowConfig;
  let redis: Redis;
  let queue: Queue;
  let queueRedis: Redis;
  let api: ServiceProcess;
  let browser: BrowserContext | undefined;
  let profileDir: string;
  let port: number;

  beforeAll(async () => {
    ensureChromium();
    port = await freePort();
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-dash-archive-'));
    scenario = new Scenario('dash', { SIGFLOW_API_PORT: String(port), SIGFLOW_API_KEYS: `${key}:ops`, SIGFLOW_ARCHIVE_DIR: archiveDir });
    await scenario.setUp();
    config = scenario.config;
    redis = scenario.redis;
    const collectorPort = await freePort();
    const collector = new ServiceProcess(`collector-dash-${scenario.id}`, 'services/collector/dist/main.js', { ...scenario.env, SIGFLOW_COLLECTOR_PORT: String(collectorPort) }, collectorPort);
    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    api = new ServiceProcess(`api-dashboard-${scenario.id}`, 'services/api/dist/main.js', scenario.env, port);
    stack.push(collector, api);
    await Promise.all([collector.start(), speed.start(), archiver.start(), api.start()]);

    // The last 90 minutes of traffic through the collector, as browsers and ad servers send it.
    const now = Date.now();
    const sink = new HttpSink({ url: `http://127.0.0.1:${collectorPort}` });
    const stream = new EventStream({ seed: 5, events: 15_000, start: now - 90 * 60_000, span: 89 * 60_000, partitions: 4, campaigns: 4, duplicates: 0.02, bots: 0.02, orphans: 0.01, rules: config.rules });
    const run = await runGenerator({ stream, sink, truth: true });
    await sink.close();
    expect(run.failed).toBe(0);
    const sent = run.truth!.toJSON().totals.sent;
    await waitUntil('the speed layer to process the traffic', () => redis.hgetall(scenario.keys.speedCounters()), (c) => Number(c['events'] ?? 0) + Number(c['duplicates'] ?? 0) >= sent, 120_000);
    await waitUntil('the archiver to commit the traffic', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 120_000);
    // The batch layer recomputes the closed hours (what the scheduler does every few minutes).
    await recomputeHours({ from: hourStart(now - 90 * 60_000), to: hourStart(now), config, redis });

    // A job for the job list (no worker in this suite: it stays waiting).
    queueRedis = createRedis(config.redis, { maxRetriesPerRequest: null });
    queue = new Queue(config.batch.queueName, { connection: queueRedis, prefix: `${config.redis.keyPrefix}:bull` });
    await queue.add('recompute', { from: hourStart(now) - 2 * HOUR, to: hourStart(now) - HOUR, requestedBy: 'dashboard-test' });
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-chromium-'));
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    for (const service of stack) await service.stop();
    await queue?.close();
    queueRedis?.disconnect();
    await scenario?.tearDown();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('draws live CTR, attribution, reconciliation, heatmap and jobs, and says where data comes from', async () => {
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
    await page.goto(`http://127.0.0.1:${port}/#key=${key}`);

    await page.waitForSelector('#ctr-chart[data-state="ready"]', { timeout: 60_000 });
    expect(Number(await page.getAttribute('#ctr-chart', 'data-points'))).toBeGreaterThan(10);
    expect(await page.locator('#ctr-chart path.series').count()).toBeGreaterThan(0);
    // The key left the address bar.
    expect(page.url()).not.toContain(key);
    await page.waitForSelector('#attribution-chart[data-state="ready"]');
    await page.waitForSelector('#recon-chart[data-state="ready"]');
    await waitUntil('heatmap rows', () => page.locator('#heatmap-table tbody tr').count(), (n) => n > 0, 30_000);
    await waitUntil('job rows', () => page.locator('#jobs-table tbody tr td:nth-child(2)').allTextContents(), (names) => names.includes('recompute'), 30_000);
    expect(await page.textContent('#role')).toBe('role: ops');
    expect(await page.textContent('#status')).toContain('batch watermark');
    // Sources are shown: the recomputed hour is batch, the current one speed.
    expect(await page.locator('#campaign-table .src-speed').count()).toBeGreaterThan(0);
    expect(await page.locator('#campaign-table .src-batch').count()).toBeGreaterThan(0);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
