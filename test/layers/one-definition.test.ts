import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realTimeModels } from '@sigflow/core';
import { recomputeHours } from '@sigflow/batch';
import { EventStream, KafkaSink, runGenerator, type TruthFile } from '@sigflow/loadgen';
import { batchKeyspace, readBatchHourEntries } from '@sigflow/store';
import { Scenario } from '../support/scenario.js';
import { waitUntil } from '../support/redis-keys.js';
import { expectedSpeedViews, readViews, truthHours, viewDifferences } from '../support/speed-truth.js';

const START = Date.UTC(2026, 10, 19, 6, 0, 0);

// "One definition, two executions": the speed layer (incremental, per partition, in arrival
// order) and the batch layer (DuckDB scan of the archive, sorted by user and time) run the
// same rules from packages/core; on in-order data their views must be equal.
describe('speed views equal batch views on in-order data', () => {
  let scenario: Scenario;
  let archiveDir: string;
  afterEach(async () => {
    await scenario?.tearDown();
    fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('for every windowed view and every real-time model', async () => {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-layers-'));
    scenario = new Scenario('layers', { SIGFLOW_ARCHIVE_DIR: archiveDir });
    await scenario.setUp();
    const sink = new KafkaSink({ brokers: scenario.config.kafka.brokers, topic: scenario.topics.events, partitions: 4 });
    await sink.connect();
    const stream = new EventStream({
      seed: 23,
      events: 20_000,
      start: START,
      span: 4 * 3_600_000,
      partitions: 4,
      duplicates: 0.02,
      bots: 0.02,
      floods: 0.01,
      orphans: 0.01,
      tooFast: 0.01,
      // IP floods across partitions: NATs and 50-user botnets put one IP's clicks everywhere.
      nats: 0.005,
      botnetUsers: 50,
      rules: scenario.config.rules,
    });
    const run = await runGenerator({ stream, sink, truth: true });
    await sink.close();
    const truth: TruthFile = run.truth!.toJSON();
    expect(truth.totals.cross_partition_floods?.total).toBeGreaterThan(10);
    // The traffic is in the topic before the layers start: the speed layer's rounds then align
    // every partition in event time, so its IP flood verdicts are the exact ones (live, it is
    // exact up to arrival order across partitions: DESIGN.md).
    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    await Promise.all([speed.start(), archiver.start()]);

    await waitUntil('the speed layer to process everything', () => scenario.speedCounters(), (c) => (c['events'] ?? 0) + (c['duplicates'] ?? 0) >= truth.totals.sent, 120_000);
    await waitUntil('the archiver to commit everything', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 120_000);

    const hours = truthHours(truth);
    const result = await recomputeHours({ from: hours[0]!, to: hours[hours.length - 1]! + 3_600_000, config: scenario.config, redis: scenario.redis, shapley: null, markov: null });
    expect(result.hours.length).toBe(hours.length);

    const versions = await readBatchHourEntries(scenario.redis, scenario.keys, hours);
    expect(versions.size).toBe(hours.length);
    const models = [...realTimeModels];
    const speedViews = await readViews(scenario.redis, () => scenario.speedKeyspaces(), truth, models);
    const batchViews = await readViews(scenario.redis, (h) => batchKeyspace(scenario.keys, versions.get(h)!.version), truth, models);

    expect(speedViews.metrics.size).toBeGreaterThan(100);
    // Batch against the generator's truth (IP floods judged over every partition by event time).
    expect(viewDifferences(expectedSpeedViews(truth, scenario.config.rules.windowMs).metrics, batchViews.metrics)).toEqual([]);
    expect(viewDifferences(batchViews.metrics, speedViews.metrics)).toEqual([]);
    expect(viewDifferences(batchViews.heatmap, speedViews.heatmap)).toEqual([]);
    // Credits are float sums added in a different order by the two layers.
    expect(viewDifferences(batchViews.attribution, speedViews.attribution, 1e-9)).toEqual([]);
    for (const model of models) {
      expect([...speedViews.attribution.keys()].some((k) => k.startsWith(`${model}\t`)), model).toBe(true);
    }
  });
});
