import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import { faultScenario, noteRecovery, seededRandom, sleep, timeUntil } from './lib/fault-run.js';
import { faultTraffic, sendToKafka } from './lib/traffic.js';
import { archiveTally, speedTally, waitSpeedCaughtUp } from './lib/views.js';

// kill -9 of the two consumers of events.v1 at random moments while the generator sends:
// the speed layer's views must equal the truth exactly (offsets live with the views in Redis),
// the archive must hold every event (offsets are committed after the files are in place).
describe('faults: kill -9 of the consumers under traffic', () => {
  let scenario: Scenario | undefined;
  let archiveDir: string | undefined;
  afterEach(async () => {
    await scenario?.tearDown();
    scenario = undefined;
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
    archiveDir = undefined;
  });

  it('speed layer: nothing lost or double-counted after four kills, one during start-up', () =>
    faultScenario('kill -9 speed layer (x4, one in start-up)', async (row) => {
      scenario = new Scenario('f-kill-speed');
      await scenario.setUp();
      const speed = await scenario.speed();
      await speed.start();
      await speed.ready();
      const random = seededRandom(61);
      const traffic = sendToKafka(scenario, faultTraffic(61, 30_000), 1_500);
      for (let i = 0; i < 3; i++) {
        await sleep(1_000 + random() * 2_000);
        const killedAt = Date.now();
        await speed.kill9();
        await speed.start();
        if (i === 2) {
          // The third restart is killed again as soon as it answers /healthz: while it joins
          // the group and loads its partitions' state.
          await speed.kill9();
          await speed.start();
        }
        await speed.ready(30_000);
        noteRecovery(row, Date.now() - killedAt);
      }
      const sent = await traffic;
      const sentAt = Date.now();
      await waitSpeedCaughtUp(scenario, 60_000);
      const tally = await speedTally(scenario, sent.truth);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost, doubleCounted: tally.doubleCounted });
      row.details = { kills: 4, catchUpAfterTrafficMs: Date.now() - sentAt, diffs: tally.diffs };
      expect(tally.diffs).toEqual([]);
    }));

  it('archiver: every event archived after three kills', () =>
    faultScenario('kill -9 archiver (x3)', async (row) => {
      archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-archive-'));
      scenario = new Scenario('f-kill-archiver');
      await scenario.setUp();
      const archiver = await scenario.archiver(archiveDir);
      await archiver.start();
      await archiver.ready();
      const random = seededRandom(67);
      // About 17 s of traffic: the third kill lands some 12 s in (its restarts take 2-3 s each),
      // mid-stream with a few seconds to spare, and the run waits out little traffic after it.
      const traffic = sendToKafka(scenario, faultTraffic(67, 25_000), 1_500);
      for (let i = 0; i < 3; i++) {
        await sleep(1_000 + random() * 2_000);
        const killedAt = Date.now();
        await archiver.kill9();
        await archiver.start();
        await archiver.ready(30_000);
        noteRecovery(row, Date.now() - killedAt);
      }
      const sent = await traffic;
      const group = scenario.env['SIGFLOW_ARCHIVER_GROUP']!;
      const catchUp = await timeUntil('the archiver to commit everything', async () => (await scenario!.groupLag(group)) === 0, 60_000, 250);
      const tally = await archiveTally(archiveDir, sent.ids);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost, doubleCounted: tally.doubleCounted });
      row.details = { kills: 3, catchUpAfterTrafficMs: catchUp, messages: tally.messages, copiesSent: tally.copiesSent, replayedRows: tally.replayedRows, diffs: tally.diffs };
      expect(tally.diffs).toEqual([]);
      expect(tally.messages).toBe(sent.truth.totals.sent);
    }));
});
