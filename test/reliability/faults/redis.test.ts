import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import type { ServiceProcess } from '../../support/services.js';
import { ClientLog, poll } from './lib/client-log.js';
import { faultScenario, noteRecovery, probe, sleep, timeUntil, type RowDraft } from './lib/fault-run.js';
import { OwnRedis } from './lib/servers.js';
import { FAULT_START, faultTraffic, sendToKafka, type Sent } from './lib/traffic.js';
import { archiveTally, speedTally, waitSpeedCaughtUp } from './lib/views.js';

/** Readiness of each service, sampled every 250 ms while a fault lasts. */
class ReadinessWatch {
  readonly firstNotReadyMs = new Map<string, number>();
  /** Probes that got no answer within 2 s (a hang of /readyz). */
  hangs = 0;
  private readonly stop = new AbortController();
  private readonly done: Promise<void>;
  constructor(services: ServiceProcess[], started = Date.now()) {
    this.done = (async () => {
      while (!this.stop.signal.aborted) {
        await Promise.all(
          services.map(async (s) => {
            const status = await probe(s.metricsPort, '/readyz', 2_000);
            if (status === 0) this.hangs++;
            if (status !== 200 && !this.firstNotReadyMs.has(s.name)) this.firstNotReadyMs.set(s.name, Date.now() - started);
          }),
        );
        await sleep(250);
      }
    })();
  }
  async end(): Promise<{ firstNotReadyMs: Record<string, number>; probeHangs: number }> {
    this.stop.abort();
    await this.done;
    return { firstNotReadyMs: Object.fromEntries(this.firstNotReadyMs), probeHangs: this.hangs };
  }
}

// Redis holds the speed views WITH their offsets: after a restart (AOF on) or a 10 s freeze the
// views must still equal the truth exactly; meanwhile services say "not ready" (never hang) and
// API clients get clear answers. A Redis of the test's own, on a spare port.
describe('faults: Redis restarted and unreachable', () => {
  let redis: OwnRedis;
  let scenario: Scenario | undefined;
  let archiveDir: string | undefined;
  let log: ClientLog | undefined;
  beforeAll(async () => {
    redis = await OwnRedis.start({ persistence: true });
  });
  afterAll(async () => {
    await redis?.destroy();
  });
  afterEach(async () => {
    log?.uninstall();
    log = undefined;
    redis.resume();
    await scenario?.tearDown();
    scenario = undefined;
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
    archiveDir = undefined;
  });

  /** Speed layer, archiver and API on the own Redis, traffic at 2,000 events/s, `fault` injected meanwhile. */
  async function underTraffic(name: string, seed: number, row: RowDraft, fault: (s: { speed: ServiceProcess; api: ServiceProcess; archiver: ServiceProcess }) => Promise<void>) {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-archive-'));
    scenario = new Scenario(name, { SIGFLOW_REDIS_URL: redis.url });
    // The test's own client sees the outage too: its reconnect errors are expected.
    scenario.redis.on('error', () => undefined);
    await scenario.setUp();
    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    const api = await scenario.api();
    await Promise.all([speed.start(), archiver.start(), api.start()]);
    await Promise.all([speed.ready(), archiver.ready(), api.ready()]);
    const base = `http://127.0.0.1:${api.metricsPort}`;
    log = new ClientLog((u) => u.startsWith(`${base}/v1/`)).install();
    const stop = new AbortController();
    const range = `from=${FAULT_START}&to=${FAULT_START + 3 * 3_600_000}`;
    const pollers = Promise.all([
      poll(`${base}/v1/campaigns/cmp-1/metrics?${range}&granularity=hour`, { 'x-api-key': 'k' }, 100, stop.signal),
      poll(`${base}/v1/users/u${seed}-1/profile`, { 'x-api-key': 'k' }, 100, stop.signal),
      poll(`${base}/v1/jobs?limit=5`, { 'x-api-key': 'k' }, 200, stop.signal),
    ]);
    // 8 s of traffic: the fault, 3 s in, lands mid-stream, and the run no longer waits out the
    // traffic long after the services recovered from a restart.
    const traffic = sendToKafka(scenario, faultTraffic(seed, 16_000), 2_000);
    let sent: Sent;
    try {
      await sleep(3_000);
      log.faultStarted();
      await fault({ speed, api, archiver });
      sent = await traffic;
      // The fault lasts until the speed layer has caught up: its catch-up after the outage
      // loads Redis, and on a starved host an API read may time out (a 503) meanwhile. From
      // then on the pollers run 2 s more, and every request of theirs must succeed.
      await waitSpeedCaughtUp(scenario, 60_000);
      log.faultEnded();
      await sleep(2_000);
    } finally {
      stop.abort();
      await pollers;
    }
    const clients = log.summary();
    log.uninstall();
    const group = scenario.env['SIGFLOW_ARCHIVER_GROUP']!;
    await timeUntil('the archiver to commit everything', async () => (await scenario!.groupLag(group)) === 0, 60_000, 250);
    const views = await speedTally(scenario, sent.truth);
    const archive = await archiveTally(archiveDir, sent.ids);
    Object.assign(row, {
      eventsSent: sent.truth.totals.sent,
      eventsInViews: views.served,
      lost: views.lost + archive.lost,
      doubleCounted: views.doubleCounted + archive.doubleCounted,
      requestsFailed: clients.failedDuringFault,
    });
    row.details = { ...row.details, clients, archive: { ids: archive.served, messages: archive.messages, replayedRows: archive.replayedRows }, diffs: [...views.diffs, ...archive.diffs] };
    expect(views.diffs).toEqual([]);
    expect(archive.diffs).toEqual([]);
    expect(clients.hangs).toBe(0);
    expect(clients.failedOutsideFault).toBe(0);
    return clients;
  }

  it('restart (SIGTERM, AOF on): views and offsets survive together, exactly', () =>
    faultScenario('Redis restart (AOF)', async (row) => {
      await underTraffic('f-redis-restart', 79, row, async ({ speed, api, archiver }) => {
        const downAt = Date.now();
        await redis.stop();
        await sleep(2_000);
        await redis.start();
        const recovered = await timeUntil(
          'every service ready again',
          async () => (await Promise.all([speed, api, archiver].map((s) => probe(s.metricsPort)))).every((s) => s === 200),
          30_000,
          100,
        );
        noteRecovery(row, recovered);
        row.details = { downMs: Date.now() - downAt - recovered, readyAfterRestartMs: recovered };
      });
    }));

  it('unreachable for 10 s (SIGSTOP): services report not ready, never hang, then catch up exactly', () =>
    faultScenario('Redis unreachable 10 s', async (row) => {
      let readiness: Awaited<ReturnType<ReadinessWatch['end']>> | undefined;
      const clients = await underTraffic('f-redis-freeze', 83, row, async ({ speed, api, archiver }) => {
        const frozenAt = Date.now();
        redis.pause();
        const watch = new ReadinessWatch([speed, api, archiver], frozenAt);
        await sleep(10_000);
        redis.resume();
        readiness = await watch.end();
        const recovered = await timeUntil(
          'every service ready again',
          async () => (await Promise.all([speed, api, archiver].map((s) => probe(s.metricsPort)))).every((s) => s === 200),
          30_000,
          100,
        );
        noteRecovery(row, recovered);
        row.details = { readiness, readyAfterResumeMs: recovered };
      });
      expect(readiness!.probeHangs).toBe(0);
      // The speed layer and the API say so within a few seconds.
      for (const name of [`speed-${scenario!.id}`, `api-${scenario!.id}`]) expect(readiness!.firstNotReadyMs[name], name).toBeLessThan(5_000);
      expect(clients.serverErrors).toBe(0);
    }));
});
