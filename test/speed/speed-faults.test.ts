import { afterEach, describe, expect, it } from 'vitest';
import { Scenario } from '../support/scenario.js';
import { seededRandom, testSeed } from '../support/seed.js';
import type { ServiceProcess } from '../support/services.js';
import { expectViewsEqualTruth, ipFloodsInOnePartition, produce } from './speed-run.js';

// The speed layer killed and rescaled under traffic, in `npm run test:cluster` (on Redis Cluster
// and three brokers). On the single node `npm test` runs the same faults as reliability suites:
// reliability/faults/kill-consumers.test.ts (kill -9 under traffic, one kill during start-up)
// and reliability/faults/rebalance.test.ts (1 -> 2 -> 1), against the same truth.
describe('speed layer under kills and rebalances (real Kafka, Redis, speed process)', () => {
  let scenario: Scenario;
  afterEach(async () => scenario?.tearDown());

  it('loses and double-counts nothing when killed with SIGKILL at random moments under traffic', async ({ onTestFailed }) => {
    // The kill moments are random but seeded: a failure names its seed, and
    // SIGFLOW_TEST_SEED=<seed> replays the same timing.
    const seed = testSeed(20261120);
    const random = seededRandom(seed);
    onTestFailed(() => console.error(`speed-faults kill timing: seed ${seed} (replay with SIGFLOW_TEST_SEED=${seed})`));
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
