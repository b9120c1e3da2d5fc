import { afterEach, describe, expect, it } from 'vitest';
import { EventStream, KafkaSink, runGenerator, type GeneratorOptions, type TruthFile } from '@sigflow/loadgen';
import { scanKeys } from '@sigflow/store';
import { Scenario } from '../support/scenario.js';
import { seededRandom, testSeed } from '../support/seed.js';
import { waitUntil } from '../support/redis-keys.js';
import { expectedSpeedViews, readSpeedViews, viewDifferences } from '../support/speed-truth.js';
import type { ServiceProcess } from '../support/services.js';

const START = Date.UTC(2026, 10, 20, 8, 0, 0);

/**
 * The hard cases on, late events off: on in-order input the speed views must equal the truth.
 * Botnets of 50 users and NATs put one IP's clicks on every partition: one speed instance
 * counts them across its partitions in event time, so it judges them as the truth does.
 */
const inOrder: GeneratorOptions = {
  seed: 7,
  events: 24_000,
  start: START,
  span: 3 * 3_600_000,
  partitions: 4,
  duplicates: 0.02,
  bots: 0.02,
  floods: 0.01,
  orphans: 0.01,
  tooFast: 0.01,
  nats: 0.005,
  botnetUsers: 50,
};

/**
 * The same traffic for tests where the speed layer cannot judge an IP's clicks across
 * partitions in event time: late clicks (their IP's state has moved on, as the user's has), live
 * traffic (a partition's events may reach the broker after a later one's of another partition)
 * and two instances (each sees the other's partitions only as committed). There the rule is
 * exact up to arrival order, and reconciliation names the difference. A botnet of one user keeps its IP floods
 * in one partition, where they are exact; the test at hand is about lateness or ownership.
 */
const ipFloodsInOnePartition: GeneratorOptions = { ...inOrder, nats: 0, botnetUsers: 1 };

async function produce(scenario: Scenario, options: GeneratorOptions, rate = 0): Promise<TruthFile> {
  const sink = new KafkaSink({ brokers: scenario.config.kafka.brokers, topic: scenario.topics.events, partitions: 4 });
  await sink.connect();
  const stream = new EventStream({ ...options, rules: scenario.config.rules });
  try {
    const stats = await runGenerator({ stream, sink, rate, truth: true });
    if (stats.failed > 0) throw new Error(`the generator failed to send ${stats.failed} events: ${stats.lastError}`);
    return stats.truth!.toJSON();
  } finally {
    await sink.close();
  }
}

async function expectViewsEqualTruth(scenario: Scenario, truth: TruthFile): Promise<void> {
  const counters = await waitUntil(
    `the speed layer to process ${truth.totals.sent} events`,
    () => scenario.speedCounters(),
    (c) => (c['events'] ?? 0) + (c['duplicates'] ?? 0) >= truth.totals.sent,
    120_000,
  );
  expect(Number(counters['events'])).toBe(truth.totals.unique);
  expect(Number(counters['duplicates'])).toBe(truth.totals.duplicates);
  for (const [reason, n] of Object.entries(truth.totals.invalid)) expect(counters[`invalid:${reason}`] ?? 0, reason).toBe(n);
  const expected = expectedSpeedViews(truth, scenario.config.rules.windowMs);
  const actual = await readSpeedViews(scenario.redis, scenario.speedKeyspaces(), truth);
  expect(viewDifferences(expected.metrics, actual.metrics)).toEqual([]);
  expect(viewDifferences(expected.spend, actual.spend)).toEqual([]);
  expect(viewDifferences(expected.heatmap, actual.heatmap)).toEqual([]);
  expect(viewDifferences(expected.attribution, actual.attribution, 1e-9)).toEqual([]);
  expect(expected.metrics.size).toBeGreaterThan(100);
  expect(expected.spend.size).toBeGreaterThan(100);
  expect(expected.attribution.size).toBeGreaterThan(10);
}

describe('speed layer end to end (real Kafka, Redis, speed process)', () => {
  let scenario: Scenario;
  afterEach(async () => scenario?.tearDown());

  it('equals the generator truth on in-order traffic with duplicates, bots, floods and orphans', async () => {
    scenario = new Scenario('speed-truth');
    await scenario.setUp();
    // The traffic is in the topic before the speed layer starts: every round then fetches all
    // partitions, and their alignment in event time makes arrival order equal event order.
    // (Live, a partition whose events reach the broker a moment after another's is judged in
    // arrival order: DESIGN.md "exact up to arrival order", named by reconciliation.)
    const truth = await produce(scenario, inOrder);
    const speed = await scenario.speed();
    await speed.start();
    expect(truth.totals.duplicates).toBeGreaterThan(0);
    expect(truth.totals.invalid.flood).toBeGreaterThan(0);
    // Floods that only other partitions' clicks of the IP make: judged across partitions.
    expect(truth.totals.cross_partition_floods?.total).toBeGreaterThan(10);
    await expectViewsEqualTruth(scenario, truth);
  });

  it('loses and double-counts nothing when killed with SIGKILL at random moments under traffic', async ({ onTestFailed }) => {
    // The kill moments are random but seeded: a failure names its seed, and
    // SIGFLOW_TEST_SEED=<seed> replays the same timing.
    const seed = testSeed(20261120);
    const random = seededRandom(seed);
    onTestFailed(() => console.error(`speed-truth kill timing: seed ${seed} (replay with SIGFLOW_TEST_SEED=${seed})`));
    scenario = new Scenario('speed-crash');
    await scenario.setUp();
    const speed = await scenario.speed();
    await speed.start();
    const traffic = produce(scenario, { ...ipFloodsInOnePartition, seed: 11, events: 30_000 }, 3_000);
    let kills = 0;
    // Kill at random points while traffic flows; restart each time.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1_000 + random() * 1_500));
      await speed.kill9();
      kills++;
      await speed.start();
    }
    const truth = await traffic;
    expect(kills).toBe(4);
    await expectViewsEqualTruth(scenario, truth);
  });

  it('keeps late events out of windows and attribution, counts them, and still appends them to signals', async () => {
    scenario = new Scenario('speed-late');
    await scenario.setUp();
    const speed = await scenario.speed();
    await speed.start();
    await speed.ready();
    const truth = await produce(scenario, { ...ipFloodsInOnePartition, seed: 17, events: 20_000, late: 0.05 });
    expect(truth.totals.late).toBeGreaterThan(500);
    await expectViewsEqualTruth(scenario, truth);
    const counters = await scenario.speedCounters();
    expect(counters['late']).toBe(truth.totals.late);
    // Every first copy is a signal, late ones included (flagged).
    let signals = 0;
    let lateSignals = 0;
    for (const p of scenario.partitions) {
      for (const key of await scanKeys(scenario.redis, scenario.keys.signals(p, '*'))) {
        const list = await scenario.redis.lrange(key, 0, -1);
        signals += list.length;
        lateSignals += list.filter((s) => JSON.parse(s).late === true).length;
      }
    }
    expect(signals).toBe(truth.totals.unique);
    expect(lateSignals).toBe(truth.totals.late);
  });

  it('keeps totals exact while a second instance joins and leaves the group', async () => {
    scenario = new Scenario('speed-rebalance');
    await scenario.setUp();
    const first = await scenario.speed('speed-a');
    const second: ServiceProcess = await scenario.speed('speed-b');
    await first.start();
    const traffic = produce(scenario, { ...ipFloodsInOnePartition, seed: 13, events: 30_000 }, 3_000);
    await new Promise((r) => setTimeout(r, 2_500));
    await second.start();
    await new Promise((r) => setTimeout(r, 4_000));
    await second.stop();
    const truth = await traffic;
    await expectViewsEqualTruth(scenario, truth);
  });
});
