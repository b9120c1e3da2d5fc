// `npm run test:reliability` (not `npm test`): one of two speed instances cut off from Kafka by
// the network past its session timeout (6 s, shipped) while Redis stays reachable: the group
// gives its partitions to the other instance, which takes them under newer owner epochs, and
// whatever the cut-off one still had in hand must not land (a zombie's commit). Healed after
// 20 s, it rejoins. The speed views must equal the generator's truth, each event counted once.
import { afterAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import { faultScenario, noteRecovery, sleep, timeUntil } from '../faults/lib/fault-run.js';
import { faultTraffic, sendToKafka } from '../faults/lib/traffic.js';
import { kafkaBehindLink, removeLeft, speedRow, type Left } from './network-run.js';

const CUT_MS = 20_000;

/** The partitions a speed instance owns (`sigflow_speed_owned_partitions`: 1 per partition label). */
async function ownedPartitions(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(/^sigflow_speed_owned_partitions\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('network: a speed instance and Kafka', () => {
  const left: Left = {};
  afterAll(() => removeLeft(left));

  it('cut from Kafka past its session timeout, Redis reachable: the other instance takes its partitions, nothing counted twice', { timeout: 300_000 }, () =>
    faultScenario('speed instance partitioned from Kafka 20 s (session 6 s), Redis reachable', async (row) => {
      const { broker, link } = await kafkaBehindLink(left);
      const s = new Scenario('n-speed-kafka', { SIGFLOW_KAFKA_BROKERS: broker.brokers });
      left.scenario = s;
      await s.setUp();
      const cutOff = await s.speed('speed-a', { SIGFLOW_KAFKA_BROKERS: `127.0.0.1:${link.port}` });
      const other = await s.speed('speed-b');
      await cutOff.start();
      await cutOff.ready();
      await other.start();
      await other.ready();
      await timeUntil('both instances to own partitions', async () => (await ownedPartitions(cutOff.metricsPort)) > 0 && (await ownedPartitions(other.metricsPort)) > 0, 60_000, 250);

      const traffic = sendToKafka(s, faultTraffic(149, 24_000), 2_000);
      await sleep(3_000);
      link.partition();
      const cutAt = Date.now();
      const tookOverMs = await timeUntil('the other instance to own every partition', async () => (await ownedPartitions(other.metricsPort)) === s.partitions.length, CUT_MS, 250);
      await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
      link.heal();
      const healedAt = Date.now();
      const { views, caughtUpMs } = await speedRow(s, await traffic, row, healedAt);
      noteRecovery(row, tookOverMs);
      row.details = { cutMs: healedAt - cutAt, otherOwnsAllAfterCutMs: tookOverMs, caughtUpAfterHealMs: caughtUpMs, diffs: views.diffs.slice(0, 20) };
      expect(views.diffs).toEqual([]);
    }));
});
