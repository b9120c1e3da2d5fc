// A Redis that loses its data under traffic, with every service running as `npm start` runs it:
// the speed layer takes its partitions again and rebuilds what it lost from Kafka, the ops
// decisions and the privacy tombstone come back from the ops topic, and the batch layer
// recomputes its hours. Judged against the generator's truth: speed and batch views equal it,
// the budget, segment rule and alert rule set before the loss are served as they were, and the
// person deleted before the loss stays deleted (their event in Kafka is dropped on a replay, a
// new one is refused). Shared by the single Redis (restarted empty) and the Redis Cluster (a
// master and its replica lost) rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { KafkaSinkOptions } from '@sigflow/loadgen';
import { Scenario } from '../../../support/scenario.js';
import { noteRecovery, probe, sleep, timeUntil, type RowDraft } from './fault-run.js';
import { FAULT_START, faultTraffic, sendToKafka } from './traffic.js';
import { apiCaller, decideOps, decisionsRunEnv, expectStaysDeleted, PRIVACY_KEY, servedDecisions } from './ops-decisions.js';
import { batchTally, speedTally, waitSpeedCaughtUp } from './views.js';

export interface RedisLossRun {
  readonly name: string;
  readonly seed: number;
  /** Settings of the run's Redis (its URL, or nothing for the cluster of the environment). */
  readonly redisEnv: Record<string, string>;
  /**
   * Takes the data away (4 s into the traffic); resolves when Redis answers again. The deleted
   * person's event is in the views of their partition (it came before the deletion) until that
   * partition is rebuilt without it: the loss must take their partition.
   */
  readonly lose: (scenario: Scenario, deletedUser: string) => Promise<Record<string, unknown>>;
  /** The producer's settings (a cluster's traffic: one request in flight, patient retries). */
  readonly producer?: Partial<KafkaSinkOptions>;
}

/** What a run leaves for its caller to remove (also when it fails). */
export interface RedisLossLeftovers {
  scenario?: Scenario;
  archiveDir?: string;
}

/** Removes what a run left. */
export async function removeLeftovers(left: RedisLossLeftovers): Promise<void> {
  await left.scenario?.tearDown().catch(() => undefined);
  if (left.archiveDir) fs.rmSync(left.archiveDir, { recursive: true, force: true });
}

/** Runs the scenario into `row`. */
export async function redisLossRun(row: RowDraft, run: RedisLossRun, hold: RedisLossLeftovers): Promise<void> {
  const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-loss-'));
  hold.archiveDir = archiveDir;
  const s = new Scenario(run.name, { ...run.redisEnv, ...decisionsRunEnv });
  hold.scenario = s;
  s.redis.on('error', () => undefined);
  await s.setUp();
  const services = [await s.speed(), await s.archiver(archiveDir), await s.batchWorker(archiveDir), await s.api(), await s.collector()];
  const [speed, , , api, collector] = services as [(typeof services)[0], unknown, unknown, (typeof services)[0], (typeof services)[0]];
  await Promise.all(services.map((x) => x.start()));
  await Promise.all(services.map((x) => x.ready()));
  const call = apiCaller(() => api.metricsPort);

  // What ops decided, and a person deleted, before the loss.
  const gone = `gone-${s.id}`;
  // At the traffic's start: an event of now would move its partition's watermark days past the
  // traffic, which that partition would then judge late (unless a rebuild drops the event).
  const goneEvent = (n: number) => ({ event_id: `${gone}-${n}`, type: 'page_view', user_id: gone, ts: FAULT_START + n, page_id: 'home' });
  const post = (events: object[]) => fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  expect((await post([goneEvent(1)])).status).toBe(202);
  await decideOps(call);
  expect((await call('DELETE', `/v1/users/${gone}`, undefined, PRIVACY_KEY)).status).toBe(202);
  const served = () => servedDecisions(call);
  const before = await served();

  const traffic = sendToKafka(s, faultTraffic(run.seed, 24_000), 2_000, run.producer);
  await sleep(4_000);
  const lost = await run.lose(s, gone);
  const restarted = Date.now();
  const sent = await traffic;
  const ready = await timeUntil('every service ready', async () => (await Promise.all(services.map((x) => probe(x.metricsPort)))).every((c) => c === 200), 60_000, 100);
  await waitSpeedCaughtUp(s, 120_000);
  const views = await speedTally(s, sent.truth, { exactDuplicates: run.producer === undefined });
  const speedRecoveredMs = Date.now() - restarted;
  const group = s.env['SIGFLOW_ARCHIVER_GROUP']!;
  await timeUntil('the archiver to commit everything', async () => (await s.groupLag(group)) === 0, 60_000, 250);
  let batch = await batchTally(s.redis, s, sent.truth);
  await timeUntil('the batch views to be recomputed', async () => (batch = await batchTally(s.redis, s, sent.truth)).diffs.length === 0, 180_000, 1_000);
  const batchRecoveredMs = Date.now() - restarted;
  noteRecovery(row, speedRecoveredMs);
  Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: views.served, lost: views.lost + batch.lost, doubleCounted: views.doubleCounted + batch.doubleCounted });
  row.details = { ...lost, readyAfterRestartMs: ready, speedViewsEqualTruthAfterMs: speedRecoveredMs, batchViewsEqualTruthAfterMs: batchRecoveredMs, diffs: [...views.diffs, ...batch.diffs].slice(0, 20) };

  expect(views.diffs).toEqual([]);
  expect(batch.diffs).toEqual([]);
  expect(await served()).toEqual(before);
  // Deleted stays deleted: the event in Kafka was dropped on the replay, a new one is refused.
  await expectStaysDeleted(s, gone, post, goneEvent(2));
  await speed.ready(5_000);
}
