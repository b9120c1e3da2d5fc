import { expect } from 'vitest';
import { EventStream, runGenerator, type GeneratorOptions, type TruthFile } from '@sigflow/loadgen';
import type { Scenario } from '../support/scenario.js';
import { waitUntil } from '../support/redis-keys.js';
import { expectedSpeedViews, readSpeedViews, viewDifferences } from '../support/speed-truth.js';

// The speed suites' traffic and check: the generator straight into a scenario's events topic,
// then every speed view against the generator's truth.

const START = Date.UTC(2026, 10, 20, 8, 0, 0);

/**
 * The hard cases on, late events off: on in-order input the speed views must equal the truth.
 * Botnets of 50 users and NATs put one IP's clicks on every partition: one speed instance
 * counts them across its partitions in event time, so it judges them as the truth does.
 */
export const inOrder: GeneratorOptions = {
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
export const ipFloodsInOnePartition: GeneratorOptions = { ...inOrder, nats: 0, botnetUsers: 1 };

/** Sends `options`' traffic into the events topic at `rate` events/s (0: at once); the truth. */
export async function produce(scenario: Scenario, options: GeneratorOptions, rate = 0): Promise<TruthFile> {
  const sink = scenario.kafkaSink();
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

/** The speed layer's counters and views once it processed all of `truth`: equal to it. */
export async function expectViewsEqualTruth(scenario: Scenario, truth: TruthFile): Promise<void> {
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
