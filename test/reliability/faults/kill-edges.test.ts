import { afterEach, describe, expect, it } from 'vitest';
import type { TruthFile } from '@sigflow/loadgen';
import { Scenario } from '../../support/scenario.js';
import { ClientLog, poll } from './lib/client-log.js';
import { faultScenario, noteRecovery, probe, seededRandom, sleep, timeUntil } from './lib/fault-run.js';
import { FAULT_START, faultTraffic, recentStart, sendThroughCollector, sendToKafka } from './lib/traffic.js';
import { speedTally, waitSpeedCaughtUp } from './lib/views.js';

const metricNames = ['impressions', 'clicks', 'invalidImpressions', 'invalidClicks'] as const;

/** Expected speed metrics per (campaign, window) from the truth (no late events in these runs). */
function expectedCampaignWindows(truth: TruthFile): Map<string, number> {
  const rows = new Map<string, number>();
  const add = (campaign: string, window: number, name: string, n: number) => {
    if (n === 0) return;
    const key = `${campaign} ${window} ${name}`;
    rows.set(key, (rows.get(key) ?? 0) + n);
  };
  for (const w of truth.windows) {
    add(w.campaign_id, w.window_start, 'impressions', w.impressions - w.late_impressions);
    add(w.campaign_id, w.window_start, 'clicks', w.clicks - w.late_clicks);
    add(w.campaign_id, w.window_start, 'invalidImpressions', w.invalid_impressions - w.late_invalid_impressions);
    add(w.campaign_id, w.window_start, 'invalidClicks', w.invalid_clicks - w.late_invalid_clicks);
  }
  return rows;
}

// kill -9 of the two HTTP edges at random moments: clients must always get a clear answer
// (an answer, or a refused connection while the process is down; never a hang, never a 500),
// and the data path must neither lose nor double-count (re-sent batches are deduplicated).
describe('faults: kill -9 of the collector and the API', () => {
  let scenario: Scenario | undefined;
  let log: ClientLog | undefined;
  afterEach(async () => {
    log?.uninstall();
    log = undefined;
    await scenario?.tearDown();
    scenario = undefined;
  });

  it('collector: clients re-send, nothing lost or double-counted after three kills', () =>
    faultScenario('kill -9 collector (x3)', async (row) => {
      scenario = new Scenario('f-kill-collector');
      await scenario.setUp();
      const speed = await scenario.speed();
      const collector = await scenario.collector('collector', { SIGFLOW_COLLECTOR_RETRY_AFTER_S: '1' });
      await Promise.all([speed.start(), collector.start()]);
      await Promise.all([speed.ready(), collector.ready()]);
      const url = `http://127.0.0.1:${collector.metricsPort}`;
      log = new ClientLog((u) => u.startsWith(`${url}/v1/events`)).install();
      const random = seededRandom(71);
      const traffic = sendThroughCollector(scenario, url, faultTraffic(71, 16_000, { start: recentStart() }), 1_600);
      for (let i = 0; i < 3; i++) {
        await sleep(1_000 + random() * 2_000);
        const killedAt = Date.now();
        log.faultStarted(killedAt);
        await collector.kill9();
        await collector.start();
        await collector.ready(30_000);
        noteRecovery(row, Date.now() - killedAt);
        log.faultEnded();
      }
      const sent = await traffic;
      const clients = log.summary();
      log.uninstall();
      await waitSpeedCaughtUp(scenario, 60_000);
      const tally = await speedTally(scenario, sent.truth, { exactDuplicates: false });
      Object.assign(row, {
        eventsSent: sent.truth.totals.sent,
        eventsInViews: tally.served,
        lost: tally.lost,
        doubleCounted: tally.doubleCounted,
        requestsFailed: clients.failedDuringFault,
      });
      row.details = {
        kills: 3,
        clients,
        resentCopiesDropped: tally.duplicates - sent.truth.totals.duplicates,
        sinkRetries: sent.stats.retries,
        diffs: tally.diffs,
      };
      expect(tally.diffs).toEqual([]);
      expect(clients.hangs).toBe(0);
      expect(clients.serverErrors).toBe(0);
      expect(clients.failedOutsideFault).toBe(0);
    }));

  it('API: every poll answered or refused while down, served views equal the truth after three kills', () =>
    faultScenario('kill -9 API (x3)', async (row) => {
      scenario = new Scenario('f-kill-api');
      await scenario.setUp();
      const speed = await scenario.speed();
      const api = await scenario.api();
      await Promise.all([speed.start(), api.start()]);
      await Promise.all([speed.ready(), api.ready()]);
      const base = `http://127.0.0.1:${api.metricsPort}`;
      const headers = { 'x-api-key': 'k' };
      const options = faultTraffic(73, 20_000);
      const from = FAULT_START;
      const to = FAULT_START + options.span! + 3_600_000;
      const range = `from=${from}&to=${to}`;
      log = new ClientLog((u) => u.startsWith(`${base}/v1/`)).install();
      const stop = new AbortController();
      const pollers = Promise.all([
        poll(`${base}/v1/campaigns/cmp-1/metrics?${range}&granularity=hour`, headers, 50, stop.signal),
        poll(`${base}/v1/attribution?${range}&model=linear`, headers, 100, stop.signal),
      ]);
      const random = seededRandom(73);
      const traffic = sendToKafka(scenario, options, 2_000);
      try {
        for (let i = 0; i < 3; i++) {
          await sleep(1_000 + random() * 2_000);
          const killedAt = Date.now();
          log.faultStarted(killedAt);
          await api.kill9();
          await api.start();
          await timeUntil('the API to be ready', async () => (await probe(api.metricsPort)) === 200, 30_000, 50);
          noteRecovery(row, Date.now() - killedAt);
          log.faultEnded();
        }
      } finally {
        stop.abort();
        await pollers;
      }
      const sent = await traffic;
      const clients = log.summary();
      log.uninstall();
      await waitSpeedCaughtUp(scenario, 60_000);

      // The served views, through the restarted API, per campaign and window.
      const expected = expectedCampaignWindows(sent.truth);
      const served = new Map<string, number>();
      for (const c of sent.truth.catalogue.campaigns) {
        const res = await fetch(`${base}/v1/campaigns/${c.campaign_id}/metrics?${range}&granularity=minute`, { headers });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { rows: ({ start: number; source: string } & Record<string, number>)[] };
        for (const r of body.rows) {
          expect(r.source).toBe('speed');
          for (const m of metricNames) if (r[m]) served.set(`${c.campaign_id} ${r.start} ${m}`, r[m]);
        }
      }
      let lost = 0;
      let doubleCounted = 0;
      const diffs: string[] = [];
      for (const key of new Set([...expected.keys(), ...served.keys()])) {
        const d = (served.get(key) ?? 0) - (expected.get(key) ?? 0);
        if (d < 0) lost -= d;
        if (d > 0) doubleCounted += d;
        if (d !== 0 && diffs.length < 20) diffs.push(`${key}: expected ${expected.get(key) ?? 0}, served ${served.get(key) ?? 0}`);
      }
      const tally = await speedTally(scenario, sent.truth);
      Object.assign(row, {
        eventsSent: sent.truth.totals.sent,
        eventsInViews: tally.served,
        lost: lost + tally.lost,
        doubleCounted: doubleCounted + tally.doubleCounted,
        requestsFailed: clients.failedDuringFault,
      });
      row.details = { kills: 3, clients, servedCells: served.size, diffs: [...diffs, ...tally.diffs] };
      expect(diffs).toEqual([]);
      expect(tally.diffs).toEqual([]);
      expect(served.size).toBeGreaterThan(100);
      expect(clients.hangs).toBe(0);
      expect(clients.serverErrors).toBe(0);
      expect(clients.failedOutsideFault).toBe(0);
      expect(clients.byStatus['200']).toBeGreaterThan(50);
    }));
});
