// `npm run test:reliability` (not `npm test`): the collector cut off from Kafka by the network for
// 20 s while clients send through it, then healed. The broker of the test's own advertises a
// listener at a FaultyLink's port, so the collector's every connection to it (bootstrap and
// leader alike) goes through the link; the speed layer and the archiver reach it directly.
// Clients get 503 with Retry-After and re-send; a produce request that waited in the link is
// written after the heal, so copies reach Kafka and are dropped as duplicates. Judged against the
// generator's truth: the speed views and the archive hold every event once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import { ClientLog } from '../faults/lib/client-log.js';
import { faultScenario, noteRecovery, probe, sleep, timeUntil } from '../faults/lib/fault-run.js';
import { faultTraffic, recentStart, sendThroughCollector } from '../faults/lib/traffic.js';
import { collectorPathOutcome, expectCollectorPathWhole } from '../faults/lib/views.js';
import { kafkaBehindLink, removeLeft, type Left } from './network-run.js';

const CUT_MS = 20_000;

describe('network: the collector and Kafka', () => {
  const left: Left & { log?: ClientLog } = {};
  afterAll(async () => {
    left.log?.uninstall();
    await removeLeft(left);
  });

  it('the collector partitioned from Kafka for 20 s: 503 with Retry-After meanwhile, nothing accepted lost or counted twice', { timeout: 300_000 }, () =>
    faultScenario('collector partitioned from Kafka 20 s, healed', async (row) => {
      const { broker, link } = await kafkaBehindLink(left);
      const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-net-archive-'));
      left.archiveDir = archiveDir;
      const s = new Scenario('n-collector-kafka', { SIGFLOW_KAFKA_BROKERS: broker.brokers });
      left.scenario = s;
      await s.setUp();
      const speed = await s.speed();
      const archiver = await s.archiver(archiveDir);
      const collector = await s.collector('collector', {
        SIGFLOW_KAFKA_BROKERS: `127.0.0.1:${link.port}`,
        SIGFLOW_COLLECTOR_PRODUCE_TIMEOUT_MS: '3000',
        SIGFLOW_COLLECTOR_RETRY_AFTER_S: '1',
      });
      const services = [speed, archiver, collector];
      await Promise.all(services.map((x) => x.start()));
      await Promise.all(services.map((x) => x.ready()));
      const url = `http://127.0.0.1:${collector.metricsPort}`;
      const log = new ClientLog((u) => u.startsWith(`${url}/v1/events`)).install();
      left.log = log;
      const traffic = sendThroughCollector(s, url, faultTraffic(139, 16_000, { start: recentStart() }), 1_600);

      await sleep(3_000);
      log.faultStarted();
      link.partition();
      const cutAt = Date.now();
      const notReadyMs = await timeUntil('the collector to report not ready', async () => (await probe(collector.metricsPort, '/readyz', 3_000)) !== 200, 15_000, 200);
      await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
      link.heal();
      const healedAt = Date.now();
      const recovered = await timeUntil('the collector ready again', async () => (await probe(collector.metricsPort)) === 200, 60_000, 200);
      noteRecovery(row, recovered);

      const outcome = await collectorPathOutcome(s, archiveDir, traffic, log, row);
      const { sent, clients, views, archive } = outcome;
      row.details = {
        cutMs: healedAt - cutAt,
        collectorNotReadyAfterMs: notReadyMs,
        readyAfterHealMs: recovered,
        clients,
        resentCopiesDropped: views.duplicates - sent.truth.totals.duplicates,
        diffs: [...views.diffs, ...archive.diffs].slice(0, 20),
      };
      expectCollectorPathWhole(outcome);
    }));
});
