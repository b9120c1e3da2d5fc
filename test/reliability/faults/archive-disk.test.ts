import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedOffsets } from '@sigflow/kafka';
import { Scenario } from '../../support/scenario.js';
import { ArchiveDiskFault } from './lib/disk.js';
import { faultScenario, noteRecovery, probe, sleep, timeUntil } from './lib/fault-run.js';
import { metricSum } from './lib/metrics.js';
import { faultTraffic, sendToKafka } from './lib/traffic.js';
import { archiveTally } from './lib/views.js';

/** Files left anywhere under the archive's staging folder. */
function stagedFiles(archiveDir: string): string[] {
  const root = path.join(archiveDir, '_staging');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

// The archive folder runs out of space (a small tmpfs, filled up) while events flow: the
// archiver must stop committing offsets (nothing it could not write counts as archived), say
// "not ready", and once space is back archive everything, leaving no partial files behind.
describe('faults: archive disk full', () => {
  let scenario: Scenario | undefined;
  let archiveDir: string | undefined;
  let disk: ArchiveDiskFault | undefined;
  afterEach(async () => {
    await scenario?.tearDown();
    scenario = undefined;
    disk?.dispose();
    disk = undefined;
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
    archiveDir = undefined;
  });

  it('archiver stops committing and reports not ready; after the fault nothing is missing', () => {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-disk-'));
    disk = ArchiveDiskFault.prepare(archiveDir);
    // The suite runs as root (as CI does); without either fault mechanism it fails rather than hide the scenario.
    if (!disk) throw new Error('cannot inject the disk fault: neither a tmpfs mount nor chattr +i is allowed here (run as root)');
    return faultScenario(`archive ${disk!.kind === 'tmpfs-full' ? 'disk full' : 'folder read-only'}`, async (row) => {
      const dir = archiveDir!;
      scenario = new Scenario('f-disk');
      await scenario.setUp();
      const group = scenario.env['SIGFLOW_ARCHIVER_GROUP']!;
      const committed = async () => {
        const offsets = await committedOffsets(scenario!.kafka, group, scenario!.topics.events);
        return [...offsets].map(([partition, offset]) => `${partition}:${offset}`).sort().join(',');
      };
      const archiver = await scenario.archiver(dir);
      await archiver.start();
      await archiver.ready();
      const traffic = sendToKafka(scenario, faultTraffic(101, 20_000), 2_000);
      await sleep(2_000);

      // A little room left: the next flush starts writing and fails half-way.
      disk!.inject(96 * 1024);
      const notReadyMs = await timeUntil('the archiver to report not ready', async () => (await probe(archiver.metricsPort)) === 503, 15_000, 100);
      const before = await committed();
      await sleep(4_000);
      const after = await committed();
      const lagDuringFault = await scenario.groupLag(group);
      const failures = await metricSum(archiver.metricsPort, 'sigflow_archiver_flush_failures_total');

      disk!.clear();
      const recovered = await timeUntil('the archiver to be ready again', async () => (await probe(archiver.metricsPort)) === 200, 30_000, 100);
      noteRecovery(row, recovered);
      const sent = await traffic;
      await timeUntil('the archiver to commit everything', async () => (await scenario!.groupLag(group)) === 0, 60_000, 250);
      const tally = await archiveTally(dir, sent.ids);
      const leftovers = stagedFiles(dir);
      Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost, doubleCounted: tally.doubleCounted });
      row.details = {
        fault: disk!.kind,
        notReadyAfterMs: notReadyMs,
        committedFrozen: before === after,
        lagDuringFault,
        flushFailures: failures,
        messages: tally.messages,
        replayedRows: tally.replayedRows,
        stagedLeftovers: leftovers.length,
        diffs: tally.diffs,
      };
      expect(after).toBe(before);
      expect(lagDuringFault).toBeGreaterThan(0);
      expect(failures).toBeGreaterThan(0);
      expect(tally.diffs).toEqual([]);
      expect(tally.messages).toBe(sent.truth.totals.sent);
      expect(leftovers).toEqual([]);
    });
  });
});
