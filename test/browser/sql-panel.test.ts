// The dashboard's SQL panel in a real headless Chromium: an archive written by the archiver's own
// writer (traffic of two campaigns, a crawler's touchpoints, one person's visit), the batch
// layer's real recompute of its hours (views, verdicts, batch hours in Redis), the API with its
// sandboxed SQL workers. The panel's three examples must show what the traffic implies (counted
// here by hand): campaigns by corrected CTR (the crawler's click kept out), reconciliation per
// hour (no speed layer ran: real time saw nothing, the batch layer everything), the person's
// journey; a refused query shows its reason; the download gives the same rows as CSV and Parquet.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { DuckDBInstance } from '@duckdb/node-api';
import { ArchiveWriter } from '@sigflow/archive';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import type { ReceivedEvent } from '@sigflow/events';
import { createRedis, type RedisClient } from '@sigflow/store';
import { createLogger } from '@sigflow/observability';
import { buildApi } from '@sigflow/api';
import { openBatchQueue } from '@sigflow/batch-jobs';
import { recomputeHours } from '@sigflow/batch';
import { ensureChromium } from '../../infra/lib/chromium.mjs';
import { openDashboard, type DashboardBrowser } from '../support/dashboard-browser.js';
import { deleteByPrefix } from '../support/redis-keys.js';
import { repoRoot } from '../support/services.js';

const ARTIFACTS = path.join(repoRoot, 'test/artifacts');
const HOUR = 3_600_000;
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const H1 = H0 + HOUR;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** `n` people shown campaign `campaign`'s ad at `at`; the first `clicking` of them click it 5 s later. */
function traffic(campaign: string, n: number, clicking: number, at: number, ua = UA, who = campaign): ReceivedEvent[] {
  const events: ReceivedEvent[] = [];
  for (let u = 0; u < n; u++) {
    const base = { user_id: `${who}-u${u}`, campaign_id: campaign, ad_id: `${campaign}-ad`, channel: 'search', user_agent: ua };
    events.push({ ...base, event_id: `${who}-i${u}`, type: 'impression', ts: at + u * 1_000, received_at: at + u * 1_000 + 50 });
    if (u < clicking) events.push({ ...base, event_id: `${who}-k${u}`, type: 'click', ts: at + u * 1_000 + 5_000, received_at: at + u * 1_000 + 5_050 });
  }
  return events;
}

const journey: ReceivedEvent[] = [
  { event_id: 'j1', type: 'page_view', user_id: 'u-journey', ts: H0 + 100_000, received_at: H0 + 100_050, page_id: 'home', user_agent: UA },
  { event_id: 'j2', type: 'element_click', user_id: 'u-journey', ts: H0 + 130_000, received_at: H0 + 130_050, page_id: 'home', element_id: 'buy', user_agent: UA },
  { event_id: 'j3', type: 'conversion', user_id: 'u-journey', ts: H0 + 160_000, received_at: H0 + 160_050, value: 25, currency: 'EUR', user_agent: UA },
];

describe('SQL panel in headless Chromium', () => {
  const key = randomBytes(18).toString('base64url');
  const run = randomBytes(3).toString('hex');
  const [a, b] = [`cmp-a-${run}`, `cmp-b-${run}`];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-sql-panel-'));
  let config: SigflowConfig;
  let redis: RedisClient;
  let queueRedis: RedisClient;
  let app: FastifyInstance;
  let queue: ReturnType<typeof openBatchQueue>;
  let dashboard: DashboardBrowser | undefined;
  let page: Page;

  /** Picks an example, runs it, and returns the result table's header and rows as text. */
  async function runExample(example: string): Promise<{ head: string[]; rows: string[][]; stats: string }> {
    await page.selectOption('#sql-example', example);
    await page.click('#sql-run');
    await page.waitForSelector('#sql-table[data-state="ready"], #sql-table[data-state="error"]', { state: 'attached', timeout: 30_000 });
    const error = await page.textContent('#sql-error');
    expect(error).toBe('');
    const cells = (selector: string) => page.locator(selector).evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
    const [head, rows] = await Promise.all([cells('#sql-table thead tr'), cells('#sql-table tbody tr')]);
    return { head: head[0] ?? [], rows, stats: (await page.textContent('#sql-stats')) ?? '' };
  }

  beforeAll(async () => {
    await ensureChromium();
    config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: `t-sqlpanel-${run}`, SIGFLOW_API_KEYS: `${key}:analyst`, SIGFLOW_ARCHIVE_DIR: dir, SIGFLOW_SQL_WORKERS: '1' });
    redis = createRedis(config.redis);
    const writer = await ArchiveWriter.open({ root: dir });
    // Hour H0: a: 10 people, 4 click; b: 5 people, 1 clicks, and a crawler's impression and click (invalid: bot).
    // Hour H1: a: 1 person who clicks. And one person's visit in H0.
    const events = [...traffic(a, 10, 4, H0 + 10_000), ...traffic(b, 5, 1, H0 + 20_000), ...traffic(b, 1, 1, H0 + 30_000, BOT, `${b}-bot`), ...traffic(a, 1, 1, H1 + 10_000, UA, `${a}-late`), ...journey];
    await writer.write(events.map((event, i) => ({ event, partition: 0, offset: String(i) })));
    await writer.close();
    await recomputeHours({ config, redis, from: H0, to: H1 + HOUR, shapley: null, markov: null, computedBy: 'sql-panel-test' });
    queueRedis = createRedis(config.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null });
    queue = openBatchQueue(config, queueRedis);
    app = await buildApi({ config, redis, queue, logger: createLogger('sql-panel', 'silent') });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    dashboard = await openDashboard(`http://127.0.0.1:${port}/#key=${key}&refresh=600`);
    page = dashboard.page;
    await page.waitForSelector('#sql-tables[data-state="ready"]', { state: 'attached', timeout: 30_000 });
  }, 300_000);

  afterAll(async () => {
    await dashboard?.close();
    await app?.close();
    await queue?.close();
    if (redis) await deleteByPrefix(redis, config.redis.keyPrefix);
    redis?.disconnect();
    queueRedis?.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the tables and their columns', async () => {
    const names = await page.$$eval('#sql-tables [data-table]', (nodes) => nodes.map((n) => n.getAttribute('data-table')));
    expect(names).toEqual(expect.arrayContaining(['events', 'event_verdicts', 'batch_window_metrics', 'reconciliation', 'segment_sizes', 'batch_hours']));
  });

  it('top campaigns by corrected CTR: the crawler is kept out', async () => {
    const { head, rows } = await runExample('ctr');
    expect(head).toEqual(['campaign_id', 'impressions', 'clicks', 'ctr', 'invalid_clicks']);
    expect(rows).toEqual([
      [a, '11', '5', String(Math.round((5 / 11) * 10_000) / 10_000), '0'],
      [b, '5', '1', '0.2', '1'],
    ]);
  });

  it('reconciliation by hour: real time saw nothing, the batch layer every valid touchpoint', async () => {
    const { head, rows } = await runExample('reconciliation');
    expect(head).toEqual(['hour_start', 'hour', 'clicks_speed', 'clicks_batch', 'clicks_diff', 'impressions_diff', 'late_events']);
    expect(rows.map((r) => [r[0], r[2], r[3], r[4], r[5], r[6]])).toEqual([
      [String(H0), '0', '5', '-5', '-15', '0'],
      [String(H1), '0', '1', '-1', '-1', '0'],
    ]);
    expect(rows[0]?.[1]).toBe(new Date(H0).toISOString().replace('T', ' ').slice(0, 19));
  });

  it("a user's journey, its statistics, and the download as CSV and Parquet", async () => {
    await page.fill('#user-id', 'u-journey');
    const { rows, stats } = await runExample('journey');
    expect(rows.map((r) => [r[1], r[4], r[5], r[6], r[7]])).toEqual([
      ['page_view', 'home', '', 'NULL', 'j1'],
      ['element_click', 'home', 'buy', 'NULL', 'j2'],
      ['conversion', 'NULL', 'NULL', '25', 'j3'],
    ].map((r) => r.map((v) => (v === '' ? 'NULL' : v))));
    expect(stats).toMatch(/^3 rows · [\d,]+ rows scanned · 2 files read · [\d.]+ s$/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#sql-panel').screenshot({ path: path.join(ARTIFACTS, 'dashboard-sql-panel.png') });

    await page.selectOption('#sql-format', 'csv');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#sql-download')]);
    expect(csv.suggestedFilename()).toBe('sigflow-query.csv');
    const lines = fs.readFileSync((await csv.path()) as string, 'utf8').trim().split('\r\n');
    expect(lines[0]).toBe('time,type,campaign_id,channel,page_id,element_id,value,event_id');
    expect(lines.slice(1).map((l) => l.split(',').slice(1))).toEqual([
      ['page_view', '', '', 'home', '', '', 'j1'],
      ['element_click', '', '', 'home', 'buy', '', 'j2'],
      ['conversion', '', '', '', '', '25', 'j3'],
    ]);

    await page.selectOption('#sql-format', 'parquet');
    const [parquet] = await Promise.all([page.waitForEvent('download'), page.click('#sql-download')]);
    const file = path.join(dir, 'download.parquet');
    fs.copyFileSync((await parquet.path()) as string, file);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const back = (await conn.runAndReadAll(`SELECT type, page_id, element_id, value, event_id FROM '${file}'`)).getRows();
    conn.closeSync();
    db.closeSync();
    expect(back).toEqual([
      ['page_view', 'home', null, null, 'j1'],
      ['element_click', 'home', 'buy', null, 'j2'],
      ['conversion', null, null, 25, 'j3'],
    ]);
  });

  it('a refused query shows its reason; the next one runs', async () => {
    await page.fill('#sql-text', "SELECT * FROM read_csv('/etc/passwd')");
    await page.click('#sql-run');
    await page.waitForSelector('#sql-table[data-state="error"]', { state: 'attached' });
    expect(await page.textContent('#sql-error')).toMatch(/^400 Permission Error: Cannot access file "\/etc\/passwd"/);
    await page.fill('#sql-text', 'SELECT count(*) AS copies FROM events');
    await page.click('#sql-run');
    await page.waitForSelector('#sql-table[data-state="ready"]', { state: 'attached' });
    expect(await page.$$eval('#sql-table tbody td', (cells) => cells.map((c) => c.textContent))).toEqual(['27']);
    expect(dashboard?.problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
  });
});
