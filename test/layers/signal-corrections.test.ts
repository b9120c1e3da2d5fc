// User signals served exactly once and corrected by the batch layer, through every process as
// `npm start` runs them: events posted to the collector, the speed layer appending signals, the
// archiver, a reprocess asked of the API and run by a batch worker, and what the API and the
// dashboard's user panel then serve. Hand-made cases, the expected values worked out by hand:
// - a copy of an event posted after more than the dedupe horizon of newer traffic of its
//   partition: the speed layer no longer recognises it and appends it again; the API serves the
//   event once before any batch, and once after the reprocess, which drops the copy;
// - eleven clicks of one IP (a NAT: users in different partitions) within a minute, the latest
//   by event time posted first: the speed layer, seeing it alone, finds it valid; by event time
//   it is the 11th of its IP, a flood, and after the reprocess its signal carries that verdict;
// - signals the speed layer appends to a user while a reprocess corrects that user's hour are
//   all still there afterwards.
import { hourStart } from '@sigflow/core';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchiveWatermarks } from '@sigflow/store/batch';
import { archiveSealedThrough } from '@sigflow/archive';
import { userPartition } from '@sigflow/events';
import { ensureChromium } from '../../infra/lib/chromium.mjs';
import { openDashboard, type DashboardBrowser } from '../support/dashboard-browser.js';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario, batchJobsOnDemand, oneServerProcess } from '../support/scenario.js';
import type { ServiceProcess } from '../support/services.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const BOT = 'Googlebot/2.1 (+http://www.google.com/bot.html)';

interface ServedSignal {
  event_id: string;
  type: string;
  invalid: boolean;
  reason: string | null;
  late: boolean;
  source?: string;
}

describe('signals once, and corrected by the batch layer', () => {
  const key = randomBytes(18).toString('base64url');
  const serverKey = randomBytes(12).toString('hex');
  let scenario: Scenario;
  let archiveDir: string;
  let collector: ServiceProcess;
  let api: ServiceProcess;
  let dashboard: DashboardBrowser | undefined;
  /**
   * An hour well behind the clock: every event of the suite falls in [H, H + 2 h), the copy's
   * case in H, the others after the newest event of the copy's case (so nothing else is late).
   */
  const H = hourStart(Date.now()) - 4 * HOUR;
  const run = randomBytes(3).toString('hex');
  const dupUser = `dup-${run}`;
  const X = `${dupUser}-x`;
  const nat = Array.from({ length: 11 }, (_, i) => `nat-${run}-${i}`);
  const busy = `busy-${run}`;

  const post = async (events: object[]) => {
    const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': serverKey }, body: JSON.stringify(events) });
    expect(res.status, await res.text()).toBe(202);
  };
  const apiCall = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, { method, headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field below
    return { status: res.status, body: (await res.json()) as any };
  };
  const signalsOf = async (user: string): Promise<ServedSignal[]> => (await apiCall('GET', `/v1/users/${user}/signals?includeInvalid=true&limit=1000`)).body.signals;
  const stored = (user: string) => scenario.redis.lrange(scenario.signalsKey(user), 0, -1);
  const pageView = (user: string, id: string, ts: number, ua = CHROME) => ({ event_id: id, type: 'page_view', user_id: user, ts, page_id: 'home', user_agent: ua, ip: '198.51.100.4' });

  /** Waits until the archiver committed everything and the archive is sealed past [H, H + 2 h). */
  async function archived(): Promise<void> {
    await waitUntil('the archiver to commit', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 60_000);
    const sealed = async () => archiveSealedThrough(await readArchiveWatermarks(scenario.redis, scenario.keys, scenario.topics.events), scenario.config.rules);
    await waitUntil('the archive to seal the hours', sealed, (t) => t !== null && t >= H + 2 * HOUR, 120_000);
  }

  /** Reprocesses [H, H + 2 h) through the API, to completion. */
  async function reprocess(): Promise<void> {
    const { status, body } = await apiCall('POST', '/v1/jobs/reprocess', { from: new Date(H).toISOString(), to: new Date(H + 2 * HOUR).toISOString() });
    expect(status, JSON.stringify(body)).toBe(202);
    const job = await waitUntil('the reprocess to finish', async () => (await apiCall('GET', `/v1/jobs/${body.id}`)).body, (j) => j.state === 'completed' || j.state === 'failed', 120_000);
    expect(job.state, job.failedReason).toBe('completed');
  }

  beforeAll(async () => {
    await ensureChromium();
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-signals-archive-'));
    scenario = new Scenario('signals', {
      ...oneServerProcess,
      SIGFLOW_API_KEYS: `${key}:ops`,
      SIGFLOW_COLLECTOR_API_KEYS: serverKey,
      SIGFLOW_ARCHIVE_DIR: archiveDir,
      SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS: '2000',
      ...batchJobsOnDemand,
    });
    await scenario.setUp();
    collector = await scenario.collector();
    api = await scenario.api();
    const services = [collector, api, await scenario.speed(), await scenario.archiver(archiveDir), await scenario.batchWorker(archiveDir)];
    await Promise.all(services.map((s) => s.start()));
  }, 180_000);

  afterAll(async () => {
    await dashboard?.close();
    await scenario?.tearDown();
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('a copy posted after more than the dedupe horizon of newer traffic is served once, before any batch', { timeout: 60_000 }, async () => {
    expect(scenario.config.rules.dedupeHorizonMs).toBe(HOUR);
    await post([pageView(dupUser, X, H + 10 * MIN)]);
    // Newer traffic of the same partition (the same user): 80 minutes later, past the horizon.
    await post([pageView(dupUser, `${dupUser}-later`, H + 90 * MIN)]);
    await waitUntil('the speed layer to hold both', () => stored(dupUser), (list) => list.length === 2, 30_000);
    await post([pageView(dupUser, X, H + 10 * MIN)]);
    await waitUntil('the copy to be appended again', () => stored(dupUser), (list) => list.length === 3, 30_000);
    expect((await stored(dupUser)).filter((s) => s.includes(`"event_id":"${X}"`))).toHaveLength(2);
    expect((await scenario.speedCounters())['dedupe_unchecked']).toBe(1);

    const served = await signalsOf(dupUser);
    expect(served.map((s) => s.event_id)).toEqual([`${dupUser}-later`, X]);
    // The copy that arrived first, in its place: on time, as the speed layer judged it (the later
    // one came after its window had closed: late).
    expect(served[1]).toMatchObject({ late: false, source: 'speed', invalid: false });
  });

  it("an IP's 11th click within a minute, posted first: valid for the speed layer until the reprocess", { timeout: 60_000 }, async () => {
    expect(new Set(nat.map((u) => userPartition(u, scenario.config.kafka.eventPartitions))).size).toBeGreaterThan(1);
    const touch = (i: number, type: 'impression' | 'click') => ({
      event_id: `${nat[i]}-${type}`,
      type,
      user_id: nat[i],
      ts: H + 100 * MIN + i * 1_000 + (type === 'click' ? 5_000 : 0),
      campaign_id: 'c-nat',
      ad_id: 'a1',
      channel: 'display',
      user_agent: CHROME,
      ip: '203.0.113.77',
    });
    await post([touch(10, 'impression'), touch(10, 'click')]);
    const lastClick = async () => (await signalsOf(nat[10]!)).find((s) => s.type === 'click');
    expect(await waitUntil('the 11th click to be judged alone', lastClick, (s) => s !== undefined, 30_000)).toMatchObject({ invalid: false, reason: null, source: 'speed' });
    await post(nat.slice(0, 10).flatMap((_, i) => [touch(i, 'impression'), touch(i, 'click')]));
    for (const user of nat.slice(0, 10)) await waitUntil(`${user}'s click`, () => signalsOf(user), (list) => list.length === 2, 30_000);
    // Every click valid for the speed layer: the others came before the 11th by event time.
    for (const user of nat) expect((await signalsOf(user)).map((s) => s.invalid)).toEqual([false, false]);
  });

  it('after a reprocess: the copy dropped, the flood judged, signals appended meanwhile kept', { timeout: 300_000 }, async () => {
    // A user whose hour the reprocess corrects (a bot's page view: reviewed), who keeps sending
    // while it runs: one page view every 20 ms, at most 400 (the log holds 1,000).
    await post([pageView(busy, `${busy}-bot`, H + 105 * MIN, BOT)]);
    await waitUntil('the bot page view', () => stored(busy), (list) => list.length === 1, 30_000);
    await archived();
    let sent = 1;
    let sending = true;
    const during = (async () => {
      while (sending && sent <= 400) {
        await post([pageView(busy, `${busy}-${sent}`, H + 106 * MIN + sent * 1_000)]);
        sent++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await reprocess();
    sending = false;
    await during;
    expect(sent).toBeGreaterThan(5);
    await waitUntil('every page view of the busy user', () => stored(busy), (list) => list.length === sent, 30_000);

    const busySignals = await signalsOf(busy);
    expect(busySignals.map((s) => s.event_id).sort()).toEqual([`${busy}-bot`, ...Array.from({ length: sent - 1 }, (_, i) => `${busy}-${i + 1}`)].sort());
    expect(busySignals.find((s) => s.event_id === `${busy}-bot`)).toMatchObject({ invalid: true, reason: 'bot', source: 'batch' });

    // The copy: served once, now with the batch layer's verdict; the stored copy is dropped.
    const dup = await signalsOf(dupUser);
    expect(dup.map((s) => [s.event_id, s.invalid, s.late, s.source])).toEqual([
      [`${dupUser}-later`, false, false, 'speed'],
      [X, false, false, 'batch'],
    ]);
    expect(await stored(dupUser)).toContain(`{"dropped":"duplicate","event_id":"${X}"}`);

    // The 11th click of the IP carries the batch verdict; the ten before it stay valid.
    expect((await signalsOf(nat[10]!)).find((s) => s.type === 'click')).toMatchObject({ invalid: true, reason: 'flood', source: 'batch' });
    for (const user of nat.slice(0, 10)) expect((await signalsOf(user)).map((s) => s.invalid)).toEqual([false, false]);

    // Reconciliation names the corrections of the hour: c-nat's flood, the copy and the bot (campaign '*').
    // Reconciliation names the corrections per hour: the copy in H (campaign '*': a page view),
    // the flood in H + 1 (campaign c-nat). Nothing else of the two hours was corrected.
    const recon = (await apiCall('GET', `/v1/reconciliation?from=${new Date(H).toISOString()}&to=${new Date(H + 2 * HOUR).toISOString()}`)).body;
    const causesOf = (hour: number, campaign: string) => recon.rows.find((r: { hourStart: number; campaignId: string }) => r.hourStart === hour && r.campaignId === campaign)?.causes;
    expect(causesOf(H, '*').signalsCorrected).toEqual({ duplicate: 1 });
    expect(causesOf(H, '*').named).toContainEqual({ cause: 'signals_corrected', reason: 'duplicate', speed: 1, batch: 0 });
    expect(causesOf(H + HOUR, 'c-nat').signalsCorrected).toEqual({ verdict: 1 });
    expect(causesOf(H + HOUR, 'c-nat').named).toContainEqual({ cause: 'signals_corrected', reason: 'verdict', speed: 1, batch: 0 });
    expect(causesOf(H + HOUR, '*')?.signalsCorrected ?? {}).toEqual({});
  });

  it("the dashboard's user panel shows what the API serves: the event once, the flood judged by the batch layer", { timeout: 60_000 }, async () => {
    dashboard = await openDashboard(`http://127.0.0.1:${api.metricsPort}/#key=${key}`);
    const { page } = dashboard;
    const show = async (user: string) => {
      await page.fill('#user-id', user);
      await page.click('#user-submit');
      await page.waitForSelector(`#user-result[data-state="ready"][data-user-id="${user}"]`, { timeout: 15_000 });
      return page.locator('#user-signals tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute('data-event-id'), tr.querySelector('[data-reason]')?.getAttribute('data-reason') ?? null, tr.getAttribute('data-source')]),
      );
    };
    expect(await show(dupUser)).toEqual([
      [`${dupUser}-later`, null, 'speed'],
      [X, null, 'batch'],
    ]);
    expect(await show(nat[10]!)).toEqual([
      [`${nat[10]}-click`, 'flood', 'batch'],
      [`${nat[10]}-impression`, null, 'speed'],
    ]);
    expect(dashboard.problems).toEqual([]);
  });
});
