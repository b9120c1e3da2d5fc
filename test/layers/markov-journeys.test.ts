// Markov attribution over journeys (DESIGN.md, Markov), through the processes as `npm start`
// runs them: a small journey set posted to the collector, archived by the archiver, the models
// trained with `POST /v1/jobs/train`, the conversions' hours reprocessed with
// `POST /v1/jobs/reprocess`, and `GET /v1/attribution?model=markov` by channel and by campaign
// compared with credits worked out by hand below.
//
// Users (B = the start, days and hours after it; impressions, channel and campaign):
//   A: search cS at B (9 days before its first conversion: outside the 7-day lookback),
//      email cE at B+8d, conversion A1 (100) at B+9d, social cO at B+9d+1h,
//      conversion A2 (50) at B+9d+2h, display cD at B+9d+3h (after the last conversion);
//   B: search cS at B+9d, email cE at B+9d+10m, conversion B1 (20) at B+9d+30m;
//   C: search cS at B+9d, no conversion;  D: display cD at B+9d, search cS at B+9d+5m.
// Journeys: A [email] -> conv, A [social] -> conv, A [display] -> null, B [search, email] -> conv,
//   C [search] -> null, D [display, search] -> null.
// Chain: start -> email 1/6, social 1/6, display 2/6, search 2/6; email -> conv 1; social -> conv 1;
//   display -> null 1/2, search 1/2; search -> email 1/3, null 2/3.
//   x_email = x_social = 1, x_search = 1/3, x_display = 1/6; P(conv) = 1/6 + 1/6 + 2/6 * 1/6 + 2/6 * 1/3 = 1/2.
//   Remove email: P = 1/6, RE 2/3. Remove social: P = 1/3, RE 1/3. Remove search: P = 1/3, RE 1/3.
//   Remove display: P = 4/9, RE 1/9.
// Credit (attribution path: the valid touchpoints in [t - 7 d, t], across earlier conversions):
//   A1: [email] -> email 1 (100). A2: [email, social] -> 2/3, 1/3 (33.33, 16.67).
//   B1: [search, email] -> 1/3, 2/3 (6.67, 13.33).
//   By channel: email 7/3 (146.67), social 1/3 (16.67), search 1/3 (6.67); by campaign the same
//   under cE, cO, cS (display credits nothing).
import { hourStart } from '@sigflow/core';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchiveWatermarks } from '@sigflow/store/batch';
import { archiveSealedThrough } from '@sigflow/archive';
import { waitUntil } from '../support/redis-keys.js';
import { Scenario, batchJobsOnDemand, oneServerProcess } from '../support/scenario.js';
import type { ServiceProcess } from '../support/services.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const CHANNEL_CAMPAIGN: Record<string, string> = { search: 'cS', email: 'cE', social: 'cO', display: 'cD' };

describe('markov attribution over journeys, through the API', () => {
  const key = randomBytes(18).toString('base64url');
  const serverKey = randomBytes(12).toString('hex');
  const run = randomBytes(3).toString('hex');
  const B = hourStart(Date.now()) - 10 * DAY;
  let scenario: Scenario;
  let archiveDir: string;
  let collector: ServiceProcess;
  let api: ServiceProcess;

  const imp = (user: string, at: number, channel: string) => ({
    event_id: `${run}-${user}-${channel}-${at}`,
    type: 'impression',
    user_id: `${run}-${user}`,
    ts: B + at,
    campaign_id: CHANNEL_CAMPAIGN[channel],
    ad_id: 'ad',
    channel,
    user_agent: CHROME,
  });
  const conversion = (user: string, id: string, at: number, value: number) => ({ event_id: `${run}-${id}`, type: 'conversion', user_id: `${run}-${user}`, ts: B + at, value, user_agent: CHROME });
  const events = [
    imp('a', 0, 'search'),
    imp('a', 8 * DAY, 'email'),
    conversion('a', 'A1', 9 * DAY, 100),
    imp('a', 9 * DAY + HOUR, 'social'),
    conversion('a', 'A2', 9 * DAY + 2 * HOUR, 50),
    imp('a', 9 * DAY + 3 * HOUR, 'display'),
    imp('b', 9 * DAY, 'search'),
    imp('b', 9 * DAY + 10 * MIN, 'email'),
    conversion('b', 'B1', 9 * DAY + 30 * MIN, 20),
    imp('c', 9 * DAY, 'search'),
    imp('d', 9 * DAY, 'display'),
    imp('d', 9 * DAY + 5 * MIN, 'search'),
  ];

  async function apiCall(method: string, url: string, body?: unknown) {
    const res = await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, { method, headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read field by field below
    return { status: res.status, body: (await res.json()) as any };
  }
  async function completed(path: string, body: unknown) {
    const { status, body: job } = await apiCall('POST', path, body);
    expect(status, JSON.stringify(job)).toBe(202);
    const done = await waitUntil(`${path} to finish`, async () => (await apiCall('GET', `/v1/jobs/${job.id}`)).body, (j) => j.state === 'completed' || j.state === 'failed', 120_000);
    expect(done.state, done.failedReason).toBe('completed');
  }

  beforeAll(async () => {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-markov-archive-'));
    scenario = new Scenario('markov', {
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
    await Promise.all([collector, api, await scenario.archiver(archiveDir), await scenario.batchWorker(archiveDir)].map((s) => s.start()));
  }, 120_000);

  afterAll(async () => {
    await scenario?.tearDown();
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('trains on journeys and serves the hand-computed credits by channel and by campaign', { timeout: 240_000 }, async () => {
    const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': serverKey }, body: JSON.stringify(events) });
    expect(res.status, await res.text()).toBe(202);
    await waitUntil('the archiver to commit', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 60_000);
    const sealed = async () => archiveSealedThrough(await readArchiveWatermarks(scenario.redis, scenario.keys, scenario.topics.events), scenario.config.rules);
    await waitUntil('the archive to seal the hours', sealed, (t) => t !== null && t >= B + 9 * DAY + 4 * HOUR, 120_000);

    await completed('/v1/jobs/train', { from: B - HOUR, to: B + 9 * DAY + 4 * HOUR });
    const markov = (await apiCall('GET', '/v1/attribution/markov')).body;
    expect(markov).toMatchObject({ definition: 'journeys-v1', journeys: 6, convertedJourneys: 3 });
    expect(markov.conversionProbability).toBeCloseTo(1 / 2, 9);
    const effects = Object.fromEntries(markov.removalEffects.map((e: { channel: string; effect: number }) => [e.channel, e.effect]));
    expect(Object.keys(effects).sort()).toEqual(['display', 'email', 'search', 'social']);
    for (const [channel, effect] of Object.entries({ email: 2 / 3, social: 1 / 3, search: 1 / 3, display: 1 / 9 })) expect(effects[channel], channel).toBeCloseTo(effect, 9);

    // Every archived hour, so that the batch watermark passes the conversions' hours (it stops at
    // the first archived hour not computed, and the merge rule serves batch views up to it).
    await completed('/v1/jobs/reprocess', { from: new Date(B).toISOString(), to: new Date(B + 9 * DAY + 4 * HOUR).toISOString() });
    const from = B + 9 * DAY;
    const to = from + 3 * HOUR;
    const served = async (groupBy: string) => {
      const { status, body } = await apiCall('GET', `/v1/attribution?model=markov&groupBy=${groupBy}&from=${from}&to=${to}&granularity=total`);
      expect(status).toBe(200);
      const rows = body.rows.filter((r: { conversions: number }) => r.conversions !== 0);
      expect(rows.every((r: { source: string }) => r.source === 'batch')).toBe(true);
      return Object.fromEntries(rows.map((r: { key: string; conversions: number; revenue: number }) => [r.key, [r.conversions, r.revenue]]));
    };
    const expected = { email: [7 / 3, 100 + 50 * (2 / 3) + 20 * (2 / 3)], social: [1 / 3, 50 / 3], search: [1 / 3, 20 / 3] };
    const byChannel = await served('channel');
    expect(Object.keys(byChannel).sort()).toEqual(Object.keys(expected).sort());
    const byCampaign = await served('campaign');
    expect(Object.keys(byCampaign).sort()).toEqual(['cE', 'cO', 'cS']);
    for (const [channel, [conversions, revenue]] of Object.entries(expected)) {
      for (const [label, got] of [[channel, byChannel[channel]], [CHANNEL_CAMPAIGN[channel], byCampaign[CHANNEL_CAMPAIGN[channel] as string]]] as const) {
        expect(got?.[0], `${label} conversions`).toBeCloseTo(conversions as number, 6);
        expect(got?.[1], `${label} revenue`).toBeCloseTo(revenue as number, 6);
      }
    }
  });
});
