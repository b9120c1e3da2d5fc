// The dashboard in a real headless Chromium: the built API runs as its own process (as `npm start`
// runs it) over a Redis holding speed and batch views; the page must draw the CTR chart from them.
// Until the speed layer runs in this suite the views are written here, by the shared rules
// (processBatch + foldOutcomes + windowViewCommands, exactly what both layers call).
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { defaultRuleSettings, foldOutcomes, processBatch } from '@sigflow/core';
import type { SigflowEvent } from '@sigflow/events';
import { batchKeyspace, createRedis, field, hourStart, StoreKeys, windowViewCommands, type WindowViewKeyspace } from '@sigflow/store';
import { freePort } from '../../infra/lib/process.mjs';
import { deleteByPrefix, waitUntil } from '../support/redis-keys.js';
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

/** Three hours of traffic: 3 campaigns on 3 channels, clicks on a landing page, some conversions. */
function traffic(now: number): SigflowEvent[] {
  const channels = ['search', 'social', 'display'];
  const events: SigflowEvent[] = [];
  const start = hourStart(now) - 2 * HOUR;
  let n = 0;
  for (let ts = start; ts < now - 10_000; ts += 4_000) {
    const u = n % 120;
    const user = `dash-user-${u}`;
    const campaign = `campaign-${u % 3}`;
    const channel = channels[(u + Math.floor(n / 120)) % 3]!;
    const id = `dash-${n++}`;
    events.push({ event_id: `${id}-i`, type: 'impression', user_id: user, ts, campaign_id: campaign, ad_id: `ad-${u % 5}`, channel });
    if (n % 4 === 0) events.push({ event_id: `${id}-c`, type: 'click', user_id: user, ts: ts + 1_500, campaign_id: campaign, ad_id: `ad-${u % 5}`, channel });
    if (n % 3 === 0) events.push({ event_id: `${id}-e`, type: 'element_click', user_id: user, ts: ts + 2_000, page_id: 'landing', element_id: `cta-${n % 4}` });
    if (n % 25 === 0) events.push({ event_id: `${id}-v`, type: 'conversion', user_id: user, ts: ts + 3_000, value: 40 });
  }
  return events;
}

async function apply(redis: Redis, space: WindowViewKeyspace, events: SigflowEvent[]): Promise<void> {
  const { outcomes } = processBatch(events, { settings: defaultRuleSettings });
  const pipe = redis.pipeline();
  for (const [command, ...args] of windowViewCommands(space, foldOutcomes(outcomes), 6 * 3600)) pipe.call(command, ...args);
  for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
}

/**
 * Speed views of the whole traffic; batch views (version b1, with a few more impressions, as if
 * the archive held late ones) of the oldest hour, which is then below the batch watermark.
 */
async function feedViews(redis: Redis, keys: StoreKeys, now: number): Promise<void> {
  const events = traffic(now);
  const speed: WindowViewKeyspace = {
    metrics: (c, h) => keys.speedMetrics(c, h),
    attribution: (m, h) => keys.speedAttribution(m, h),
    heatmap: (p, h) => keys.speedHeatmap(p, h),
  };
  await apply(redis, speed, events);
  const oldest = hourStart(now) - 2 * HOUR;
  const late = Array.from({ length: 40 }, (_, i): SigflowEvent => ({
    event_id: `dash-late-${i}`,
    type: 'impression',
    user_id: `dash-late-user-${i}`,
    ts: oldest + i * 60_000,
    campaign_id: 'campaign-0',
    ad_id: 'ad-0',
    channel: 'search',
  }));
  await apply(redis, batchKeyspace(keys, 'b1'), [...events.filter((e) => e.ts < oldest + HOUR), ...late]);
  await redis.hset(
    keys.batchHours(),
    String(oldest),
    JSON.stringify({ version: 'b1', computedAt: now, asOf: now, rows: events.length, duplicates: 0, shapleyVersion: null, markovVersion: null, computedBy: 'dashboard-test' }),
  );
  await redis.set(keys.batchWatermark(), String(oldest + HOUR));
  await redis.hset(keys.speedQuality(oldest), field('campaign-0', 'late_impression'), 40);
  await redis.sadd(keys.campaigns(), 'campaign-0', 'campaign-1', 'campaign-2');
  await redis.sadd(keys.pages(), 'landing');
  await redis.hset(keys.speedWatermarks(), field('events.v1', 0), now - 5_000);
  await redis.hset(keys.speedCounters(), 'events', events.length, 'late', 40);
}

describe('dashboard in headless Chromium', () => {
  const id = randomUUID().slice(0, 8);
  const key = randomBytes(18).toString('base64url');
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
    const env = { SIGFLOW_REDIS_PREFIX: `t-dash-${id}`, SIGFLOW_API_PORT: String(port), SIGFLOW_API_KEYS: `${key}:ops` };
    config = loadConfig({ ...process.env, ...env });
    redis = createRedis(config.redis);
    const keys = new StoreKeys(config.redis.keyPrefix);
    await feedViews(redis, keys, Date.now());
    // A job for the job list (no worker in this suite: it stays waiting).
    queueRedis = createRedis(config.redis, { maxRetriesPerRequest: null });
    queue = new Queue(config.batch.queueName, { connection: queueRedis, prefix: `${config.redis.keyPrefix}:bull` });
    await queue.add('recompute', { from: hourStart(Date.now()) - 2 * HOUR, to: hourStart(Date.now()) - HOUR, requestedBy: 'dashboard-test' });
    api = new ServiceProcess(`api-dashboard-${id}`, 'services/api/dist/main.js', env, port);
    await api.start();
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-chromium-'));
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await queue?.close();
    queueRedis?.disconnect();
    if (redis) {
      await deleteByPrefix(redis, config.redis.keyPrefix);
      redis.disconnect();
    }
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
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
    expect(await page.locator('#ctr-chart path.series').count()).toBe(3);
    // The key left the address bar.
    expect(page.url()).not.toContain(key);
    await page.waitForSelector('#attribution-chart[data-state="ready"]');
    await page.waitForSelector('#recon-chart[data-state="ready"]');
    await waitUntil('heatmap rows', () => page.locator('#heatmap-table tbody tr').count(), (n) => n === 4, 30_000);
    await waitUntil('job rows', () => page.locator('#jobs-table tbody tr td:nth-child(2)').allTextContents(), (names) => names.includes('recompute'), 30_000);
    expect(await page.textContent('#role')).toBe('role: ops');
    expect(await page.textContent('#status')).toContain('batch watermark');
    // Sources are shown: the last hour is speed; the reconciliation table shows the batch correction.
    expect(await page.locator('#campaign-table .src-speed').count()).toBeGreaterThan(0);
    expect(await page.textContent('#recon-table')).toContain('campaign-0');

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
