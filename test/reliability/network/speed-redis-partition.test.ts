// `npm run test:reliability` (not `npm test`): a speed instance cut off from Redis by the network
// for 20 s under traffic, then healed (FaultyLink: the bytes wait, the connections stay, as
// across a partition). Commits sent before the cut may arrive after the speed layer gave up on
// them and reconnected: the offset and epoch fences must keep every event counted once. Judged
// against the generator's truth; the row's recovery time is from the heal until the speed layer
// has caught up.
import { afterAll, describe, expect, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import { faultScenario, noteRecovery, probe, sleep, timeUntil } from '../faults/lib/fault-run.js';
import { faultTraffic, sendToKafka } from '../faults/lib/traffic.js';
import { FaultyLink } from './faulty-link.js';
import { removeLeft, speedRow, type Left } from './network-run.js';

const CUT_MS = 20_000;

/** A scenario whose speed instance (started, ready) reaches Redis through a link of its own. */
async function speedThroughLink(left: Left, name: string) {
  const s = new Scenario(name);
  left.scenario = s;
  const redisUrl = new URL(s.config.redis.url);
  const link = await FaultyLink.open({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  left.link = link;
  redisUrl.port = String(link.port);
  await s.setUp();
  const speed = await s.speed('speed', { SIGFLOW_REDIS_URL: redisUrl.toString() });
  await speed.start();
  await speed.ready();
  return { s, link, speed };
}

describe('network: the speed layer and Redis', () => {
  const left: Left = {};
  afterAll(() => removeLeft(left));

  it('a speed instance partitioned from Redis for 20 s, then healed: not ready meanwhile, every event counted once', { timeout: 240_000 }, () =>
    faultScenario('speed instance partitioned from Redis 20 s, healed', async (row) => {
      const { s, link, speed } = await speedThroughLink(left, 'n-speed-redis');

      const traffic = sendToKafka(s, faultTraffic(131, 24_000), 2_000);
      await sleep(3_000);
      const cutAt = Date.now();
      link.partition();
      const notReadyAfterMs = await timeUntil('the speed layer to say it is not ready', async () => (await probe(speed.metricsPort, '/readyz', 2_000)) !== 200, 10_000, 100);
      await sleep(CUT_MS - (Date.now() - cutAt));
      link.heal();
      const healedAt = Date.now();
      const { views, caughtUpMs } = await speedRow(s, await traffic, row, healedAt);
      const readyMs = await timeUntil('the speed layer ready again', async () => (await probe(speed.metricsPort, '/readyz', 2_000)) === 200, 30_000, 100);
      noteRecovery(row, caughtUpMs);
      row.details = { cutMs: CUT_MS, notReadyAfterCutMs: notReadyAfterMs, caughtUpAfterHealMs: caughtUpMs, readyAfterHealMs: readyMs, diffs: views.diffs.slice(0, 20) };
      expect(notReadyAfterMs).toBeLessThan(5_000);
      expect(views.diffs).toEqual([]);
    }));
});

describe('network: a slow, lossy link between the speed layer and Redis', () => {
  const left: Left = {};
  afterAll(() => removeLeft(left));

  it('200 ms each way and 5 % of segments retransmitted (300 ms) for a minute: every event counted once', { timeout: 300_000 }, () =>
    faultScenario('speed-Redis link 200 ms + 5 % loss for 60 s', async (row) => {
      const { s, link } = await speedThroughLink(left, 'n-speed-slow');

      // 400 events/s for a minute, all of it on the degraded link.
      link.degrade({ delayMs: 200, lossRate: 0.05, retransmitMs: 300 });
      const degradedAt = Date.now();
      const sent = await sendToKafka(s, faultTraffic(137, 24_000), 400);
      await sleep(Math.max(0, 60_000 - (Date.now() - degradedAt)));
      const lostChunks = link.lost;
      link.degrade({});
      const restoredAt = Date.now();
      const { views, caughtUpMs } = await speedRow(s, sent, row, restoredAt);
      noteRecovery(row, caughtUpMs);
      row.details = { degradedMs: restoredAt - degradedAt, chunksHeldAsLost: lostChunks, caughtUpAfterRestoreMs: caughtUpMs, diffs: views.diffs.slice(0, 20) };
      expect(lostChunks).toBeGreaterThan(0);
      expect(views.diffs).toEqual([]);
    }));
});
