import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import { ClientLog } from './lib/client-log.js';
import { faultScenario, noteRecovery, probe, sleep, timeUntil } from './lib/fault-run.js';
import { OwnKafka } from './lib/servers.js';
import { faultTraffic, recentStart, sendThroughCollector } from './lib/traffic.js';
import { collectorPathOutcome, expectCollectorPathWhole } from './lib/views.js';

// The only broker stops for 10 s while clients send through the collector: the collector answers
// 503 + Retry-After with its reason (never hangs), clients re-send, and once the broker is back the speed views
// equal the truth and the archive holds every event. A broker of the test's own, on spare ports.
describe('faults: Kafka broker down for 10 s', () => {
  let broker: OwnKafka | undefined;
  let scenario: Scenario | undefined;
  let archiveDir: string | undefined;
  let log: ClientLog | undefined;
  afterEach(async () => {
    log?.uninstall();
    log = undefined;
    await scenario?.tearDown();
    scenario = undefined;
    await broker?.destroy();
    broker = undefined;
    if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
    archiveDir = undefined;
  });

  it('collector answers 503 while the broker is down; nothing lost or double-counted after it is back', () =>
    faultScenario('Kafka broker down 10 s', async (row) => {
      broker = await OwnKafka.start();
      archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-archive-'));
      scenario = new Scenario('f-kafka-down', { SIGFLOW_KAFKA_BROKERS: broker.brokers });
      await scenario.setUp();
      const speed = await scenario.speed();
      const archiver = await scenario.archiver(archiveDir);
      const collector = await scenario.collector('collector', { SIGFLOW_COLLECTOR_PRODUCE_TIMEOUT_MS: '3000', SIGFLOW_COLLECTOR_RETRY_AFTER_S: '1' });
      const services = [speed, archiver, collector];
      await Promise.all(services.map((s) => s.start()));
      await Promise.all(services.map((s) => s.ready()));
      const url = `http://127.0.0.1:${collector.metricsPort}`;
      log = new ClientLog((u) => u.startsWith(`${url}/v1/events`)).install();
      const traffic = sendThroughCollector(scenario, url, faultTraffic(89, 16_000, { start: recentStart() }), 1_600);

      await sleep(3_000);
      log.faultStarted();
      await broker.stop();
      const stoppedAt = Date.now();
      // While it is down the collector says so (not ready), without hanging.
      const notReadyMs = await timeUntil('the collector to report not ready', async () => (await probe(collector.metricsPort, '/readyz', 3_000)) === 503, 10_000, 200);
      await sleep(Math.max(0, 10_000 - (Date.now() - stoppedAt)));
      await broker.start();
      const restartedAt = Date.now();
      const recovered = await timeUntil(
        'every service ready again',
        async () => (await Promise.all(services.map((s) => probe(s.metricsPort)))).every((s) => s === 200),
        60_000,
        200,
      );
      noteRecovery(row, recovered);

      const outcome = await collectorPathOutcome(scenario, archiveDir, traffic, log, row);
      const { sent, clients, views, archive } = outcome;
      row.details = {
        downMs: restartedAt - stoppedAt,
        collectorNotReadyAfterMs: notReadyMs,
        readyAfterBrokerBackMs: recovered,
        clients,
        // What the client's sink says of the events it was handed: a loss it caused (a batch
        // given up, events the collector answered as rejected) shows here, not in Kafka.
        sink: { sent: sent.stats.sent, rejected: sent.stats.rejected, rejectReasons: sent.stats.rejectReasons, failed: sent.stats.failed, retries: sent.stats.retries },
        resentCopiesDropped: views.duplicates - sent.truth.totals.duplicates,
        archive: { ids: archive.served, messages: archive.messages, copiesSent: archive.copiesSent, replayedRows: archive.replayedRows },
        diffs: [...views.diffs, ...archive.diffs],
      };
      // Every event accepted (the traffic keeps the contract), none lost or counted twice; the
      // outage seen (503s, re-sent); no request failed outside it.
      expectCollectorPathWhole(outcome);
      expect(clients.failedOutsideFault).toBe(0);
      // Each refusal said when to retry (the configured 1 s) and that none of its events was taken.
      expect(await log.unavailableAnswers()).toEqual(['Retry-After 1: Kafka is unavailable; nothing from this request was accepted, retry later']);
    }));
});
