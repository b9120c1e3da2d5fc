// An upgrade from the previous release (CHANGELOG.md) under traffic, on the same Kafka, Redis and
// archive, with every service run as `npm start` runs it. The previous release (a worktree of
// its commit, built once under var/releases/) runs first: the topics made with its default
// partition count (4), a budget, a segment rule and an alert rule set, a person deleted, the
// first 10,000 of 16,000 events processed until hour 0 is served by the batch layer, that hour
// reprocessed and the models trained. Then every service stops, `jobs migrate` of the current
// code runs and the current services start (none told the partition count: they adopt the
// topic's) while the rest of the traffic comes. Judged: every ops setting, the closed hour's
// served metrics and the published models are what the old release served; the deleted person
// stays deleted; speed and batch views equal the generator's truth (0 lost, 0 counted twice).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStream, runGenerator, type EventSink, type GeneratorOptions, type SinkEvent } from '@sigflow/loadgen';
import { readBatchHourEntries } from '@sigflow/store/batch';
import { Scenario } from '../../support/scenario.js';
import { repoRoot, type ServiceProcess } from '../../support/services.js';
import { faultScenario, noteRecovery, timeUntil } from '../faults/lib/fault-run.js';
import { apiCaller, decideOps, decisionsRunEnv, expectStaysDeleted, PRIVACY_KEY, servedDecisions } from '../faults/lib/ops-decisions.js';
import { FAULT_START, faultTraffic, RecordingSink, type Sent } from '../faults/lib/traffic.js';
import { batchTally, speedTally, waitSpeedCaughtUp } from '../faults/lib/views.js';
import { previousRelease, releaseCheckout } from './previous-release.js';

const HOUR = 3_600_000;
const EVENTS = 16_000;
const BEFORE_UPGRADE = 10_000;

/** Hands on the first `pauseAfter` events, then waits for `go()` before the rest (the generator waits with it). */
class GatedSink implements EventSink {
  private passed = 0;
  private opened = false;
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  private reachedPause!: () => void;
  /** Resolves once the first part is written and acknowledged. */
  readonly paused = new Promise<void>((resolve) => (this.reachedPause = resolve));

  constructor(
    private readonly inner: EventSink,
    private readonly pauseAfter: number,
  ) {}

  get stats() {
    return this.inner.stats;
  }
  go(): void {
    this.opened = true;
    this.open();
  }
  async write(events: readonly SinkEvent[]): Promise<void> {
    let rest = events;
    if (this.passed < this.pauseAfter) {
      const head = rest.slice(0, this.pauseAfter - this.passed);
      this.passed += head.length;
      await this.inner.write(head);
      rest = rest.slice(head.length);
    }
    if (rest.length === 0) return;
    if (!this.opened) {
      await this.inner.flush();
      this.reachedPause();
      await this.gate;
    }
    this.passed += rest.length;
    await this.inner.write(rest);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The traffic to the events topic, paused after `pauseAfter` events until `gated.go()`. */
async function gatedTraffic(s: Scenario, options: GeneratorOptions, rate: number, pauseAfter: number) {
  const kafkaSink = s.kafkaSink();
  await kafkaSink.connect();
  const recording = new RecordingSink(kafkaSink);
  const gated = new GatedSink(recording, pauseAfter);
  const done = (async (): Promise<Sent> => {
    try {
      const stats = await runGenerator({ stream: new EventStream({ ...options, rules: s.config.rules }), sink: gated, rate, truth: true });
      if (stats.failed > 0) throw new Error(`the generator gave up on ${stats.failed} events: ${stats.lastError}`);
      return { truth: stats.truth!.toJSON(), ids: recording.ids, stats };
    } finally {
      await kafkaSink.close();
    }
  })();
  return { gated, done };
}

describe('upgrade from the previous release', () => {
  const left: { scenario?: Scenario; archiveDir?: string } = {};
  afterAll(async () => {
    await left.scenario?.tearDown().catch(() => undefined);
    if (left.archiveDir) fs.rmSync(left.archiveDir, { recursive: true, force: true });
  });

  it('keeps every ops setting, closed hour and model, and loses or double-counts nothing', { timeout: 900_000 }, () => {
    const release = previousRelease();
    return faultScenario(`upgrade from ${release.version} under traffic`, async (row) => {
      const oldRoot = releaseCheckout(release);
      const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-upgrade-'));
      left.archiveDir = archiveDir;
      const s = new Scenario('upgrade', decisionsRunEnv);
      left.scenario = s;
      // The topics as the old release makes them (its default, 4 partitions); its services and
      // the current ones then run on their defaults, as a deployment that never set the count.
      await s.setUp();
      s.env['SIGFLOW_EVENT_PARTITIONS'] = '';
      let api: ServiceProcess | undefined;
      let collector: ServiceProcess | undefined;
      const startAll = async (root: string) => {
        s.root = root;
        const services = [await s.speed(), await s.archiver(archiveDir), await s.batchWorker(archiveDir), await s.api(), await s.collector()];
        [, , , api, collector] = services;
        await Promise.all(services.map((x) => x.start()));
        await Promise.all(services.map((x) => x.ready()));
        return services;
      };
      const call = apiCaller(() => api!.metricsPort);
      const post = (events: object[]) => fetch(`http://127.0.0.1:${collector!.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
      const completed = async (url: string, body: unknown) => {
        const job = await call('POST', url, body);
        expect(job.status, JSON.stringify(job.body)).toBe(202);
        let state: Record<string, unknown> | null = null;
        await timeUntil(`${url} to finish`, async () => ['completed', 'failed'].includes(String((state = (await call('GET', `/v1/jobs/${String(job.body!['id'])}`)).body)?.['state'])), 120_000, 250);
        expect(state!['state'], String(state!['failedReason'])).toBe('completed');
      };

      const old = await startAll(oldRoot);
      const gone = `gone-${s.id}`;
      const goneEvent = (n: number) => ({ event_id: `${gone}-${n}`, type: 'page_view', user_id: gone, ts: FAULT_START + n, page_id: 'home' });
      expect((await post([goneEvent(1)])).status).toBe(202);
      await decideOps(call);
      expect((await call('DELETE', `/v1/users/${gone}`, undefined, PRIVACY_KEY)).status).toBe(202);

      // The first part of the traffic, until hour 0 is closed and served by the batch layer.
      const traffic = await gatedTraffic(s, faultTraffic(131, EVENTS), 4_000, BEFORE_UPGRADE);
      await traffic.gated.paused;
      await waitSpeedCaughtUp(s, 120_000);
      await timeUntil('hour 0 served by the batch layer', async () => (await readBatchHourEntries(s.redis, s.keys, [FAULT_START])).has(FAULT_START), 180_000, 500);
      await completed('/v1/jobs/reprocess', { from: FAULT_START, to: FAULT_START + HOUR });
      await completed('/v1/jobs/train', { from: FAULT_START, to: FAULT_START + HOUR });
      const campaigns = ((await call('GET', '/v1/campaigns')).body?.['campaigns'] as string[]).sort();
      expect(campaigns.length).toBeGreaterThan(0);
      const served = async () => ({
        ...(await servedDecisions(call)),
        // The hour's rows (values and source); the answer's batchWatermark moves on with the archive.
        hour0: await Promise.all(campaigns.map(async (c) => (await call('GET', `/v1/campaigns/${c}/metrics?from=${FAULT_START}&to=${FAULT_START + HOUR}&granularity=hour`)).body?.['rows'])),
        shapley: (await call('GET', '/v1/attribution/shapley')).body,
        markov: (await call('GET', '/v1/attribution/markov')).body,
      });
      const before = await served();
      // What the old release serves: the hour from its batch layer, the models it trained.
      for (const rows of before.hour0) expect(rows).toEqual([expect.objectContaining({ source: 'batch' })]);
      expect(before.shapley).toMatchObject({ version: expect.stringMatching(/^s/), from: FAULT_START });
      expect(before.markov).toMatchObject({ version: expect.stringMatching(/^m/), from: FAULT_START });

      // The upgrade: every old service stops, the current code migrates, then starts.
      for (const service of old) await service.stop();
      const upgradeStarted = Date.now();
      const migrate = spawnSync(process.execPath, [path.join(repoRoot, 'jobs/batch/dist/cli.js'), 'migrate'], { cwd: repoRoot, env: { ...process.env, ...s.env }, encoding: 'utf8' });
      expect(migrate.status, migrate.stderr + migrate.stdout).toBe(0);
      expect(migrate.stdout).toContain(`${s.topics.events} has 4 partitions (kept`);
      await startAll(repoRoot);
      const upgradedMs = Date.now() - upgradeStarted;
      expect(await served()).toEqual(before);

      // The rest of the traffic, on the current release.
      traffic.gated.go();
      const sent = await traffic.done;
      await waitSpeedCaughtUp(s, 120_000);
      // The deleted person's event came before the deletion: counted, as any accepted event (no rebuild drops it here).
      const views = await speedTally(s, sent.truth, { extraEvents: 1 });
      const speedMs = Date.now() - upgradeStarted;
      await timeUntil('the archiver to commit everything', async () => (await s.groupLag(s.env['SIGFLOW_ARCHIVER_GROUP']!)) === 0, 60_000, 250);
      let batch = await batchTally(s.redis, s, sent.truth);
      await timeUntil('the batch views to equal the truth', async () => (batch = await batchTally(s.redis, s, sent.truth)).diffs.length === 0, 180_000, 1_000);
      noteRecovery(row, upgradedMs);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: views.served, lost: views.lost + batch.lost, doubleCounted: views.doubleCounted + batch.doubleCounted });
      row.details = { from: release.version, migrate: migrate.stdout.trim().split('\n'), servicesUpAfterMs: upgradedMs, speedViewsEqualTruthAfterMs: speedMs, batchViewsEqualTruthAfterMs: Date.now() - upgradeStarted, diffs: [...views.diffs, ...batch.diffs].slice(0, 20) };

      expect(views.diffs).toEqual([]);
      expect(batch.diffs).toEqual([]);
      expect(await served()).toEqual(before);
      await expectStaysDeleted(s, gone, post, goneEvent(2));
    }, 'upgrade');
  });
});
