// The platform's soak (`npm run test:soak`): every service of the data path as `npm start` runs
// it (collector, speed layer, archiver, batch worker on its shipped schedule and at the nice
// `npm start` gives it on a shared machine, API), on the shipped settings and partition count,
// for 30 minutes at a quarter of the rate this set-up drains from a fresh start on this
// machine (below), with one service killed (SIGKILL) and
// started again every 5 minutes, in turn:
// speed, archiver, collector, batch worker, speed. Judged at the end against the generator's
// truth: the speed views (every counter and cell), the batch layer's views of every hour, the
// API's hourly campaign metrics, and the archive (every event id); the RSS of every service,
// sampled every 5 s per process, bounded (the peak of its largest process in the last third of the
// run at most 25 % + 128 MiB above that in the middle third) with its slope reported.
//
// The rate: first, on a scenario of its own, the same services take 1,000,000 generated events as
// fast as the collector accepts them; the sustained rate is those events over the time until the
// slower consumer (speed layer, archiver) has committed the last of them. The soak runs at a
// quarter of it (SHARE_OF_FRESH_RATE says why; SIGFLOW_SOAK_RATE overrides). Event time: the soak's stream covers the three hours
// before the current one in the run's 30 minutes (six times the wall clock), so the batch layer
// seals and recomputes the first two while the soak runs and serves them at its end; the third
// stays the speed layer's. One setting differs from the shipped ones for that: the archiver's
// idle watermark (shipped: 5 minutes behind the wall clock, for partitions with nothing to read)
// is 4 hours behind, since a stream that runs hours in the past would otherwise have every hour
// sealed before its events arrive (then recomputed again and again as dirty: a load real
// traffic, near the wall clock, does not make). Results: bench/results/reliability-soak.json and
// a row of the reliability table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { hourStart } from '@sigflow/core';
import { EventStream, HttpSink, runGenerator, type TruthFile } from '@sigflow/loadgen';
import { Scenario } from '../../support/scenario.js';
import { sharedMachineEnv } from '../../../infra/lib/process.mjs';
import { repoRoot, type ServiceProcess } from '../../support/services.js';
import { expectedSpeedViews, rollUpAds, truthHours } from '../../support/speed-truth.js';
import { faultScenario, timeUntil, type RowDraft } from '../faults/lib/fault-run.js';
import { apiCaller } from '../faults/lib/ops-decisions.js';
import { faultTraffic, sendThroughCollector, type Sent } from '../faults/lib/traffic.js';
import { batchTally, speedTally, waitSpeedCaughtUp } from '../faults/lib/views.js';
import { MIB, processTreeRssBytes, round, rssBytes, slopePerMinute } from '../support/memory.js';

const HOUR = 3_600_000;
const SECONDS = Number(process.env['SIGFLOW_SOAK_SECONDS'] ?? 1_800);
const KILL_EVERY_S = Number(process.env['SIGFLOW_SOAK_KILL_EVERY_S'] ?? 300);
const CALIBRATION_EVENTS = Number(process.env['SIGFLOW_SOAK_CALIBRATION_EVENTS'] ?? 1_000_000);
const CALIBRATION_REQUESTS = 8;
/**
 * The soak's rate as a share of the measured one. That measurement drains from a fresh start
 * with no recompute running; at half of it (11,798 of 23,597 events/s, 2026-11-26) the speed
 * layer fell behind for good once the batch worker recomputed a sealed hour on the same 2 cores,
 * so the platform sustains less than half: a quarter is at least half of what it sustains.
 */
const SHARE_OF_FRESH_RATE = 0.25;
const SAMPLE_MS = 5_000;
/** The order services are killed in, one every KILL_EVERY_S. */
const KILL_ORDER = ['speed', 'archiver', 'collector', 'batch', 'speed'] as const;
type ServiceName = 'collector' | 'speed' | 'archiver' | 'batch' | 'api';
const SERVICES: readonly ServiceName[] = ['collector', 'speed', 'archiver', 'batch', 'api'];
/** Processes with children (a primary and its workers; the batch service and its worker processes): their RSS is the tree's. */
const WITH_CHILDREN = new Set<ServiceName>(['collector', 'api', 'batch']);

/** A service's RSS in MiB: its processes' sum, and its largest process. */
function serviceRssMiB(service: ServiceProcess, name: ServiceName): { tree: number; largest: number } {
  const each = WITH_CHILDREN.has(name) ? processTreeRssBytes(service.pid) : [rssBytes(service.pid)];
  const known = each.filter(Number.isFinite);
  return known.length === 0 ? { tree: NaN, largest: NaN } : { tree: round(known.reduce((a, b) => a + b, 0) / MIB), largest: round(Math.max(...known) / MIB) };
}

/** Whole service set of a scenario as `npm start` runs it, on the shipped settings. */
async function startPlatform(scenario: Scenario, archiveDir: string): Promise<Record<ServiceName, ServiceProcess>> {
  const services: Record<ServiceName, ServiceProcess> = {
    collector: await scenario.collector(),
    speed: await scenario.speed(),
    archiver: await scenario.archiver(archiveDir),
    batch: await scenario.batchWorker(archiveDir),
    api: await scenario.api(),
  };
  await Promise.all(Object.values(services).map((s) => s.start()));
  await Promise.all([services.speed.ready(), services.archiver.ready()]);
  return services;
}

/**
 * The shipped settings as `npm start` sets them on one machine, but for what a run on the
 * shared broker and Redis must have of its own.
 */
function soakScenario(name: string): Scenario {
  return new Scenario(name, { ...sharedMachineEnv, SIGFLOW_EVENT_PARTITIONS: '16', SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS: String(4 * HOUR), SIGFLOW_LOG_LEVEL: 'warn' });
}

/**
 * Scenarios set up and not yet torn down, with their archive folders: `afterAll` stops them
 * when the test timed out (vitest then skips its `finally`).
 */
const open = new Map<Scenario, string>();

/** Runs `use` on a soak scenario of its own and an archive folder, both removed after it. */
async function withSoakScenario<T>(name: string, use: (scenario: Scenario, archiveDir: string) => Promise<T>): Promise<T> {
  const scenario = soakScenario(name);
  const archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), `sigflow-${name}-`));
  open.set(scenario, archiveDir);
  try {
    await scenario.setUp();
    return await use(scenario, archiveDir);
  } finally {
    await closeScenario(scenario);
  }
}

async function closeScenario(scenario: Scenario): Promise<void> {
  const archiveDir = open.get(scenario);
  if (archiveDir === undefined) return;
  open.delete(scenario);
  await scenario.tearDown();
  fs.rmSync(archiveDir, { recursive: true, force: true });
}

/**
 * What the test may take: the calibration (its traffic and the consumers' catch-up, at most 600 s),
 * the soak's traffic, and each wait after it at its own bound (speed layer 300 s, archiver 300 s,
 * batch layer 900 s), with 10 minutes for start-ups, kills and the checks.
 */
const TEST_TIMEOUT_MS = (SECONDS + 600 + 300 + 300 + 900 + 600) * 1000;

/** The hours of a stream from `start` over 3 hours that end 10 minutes of event time before it does: sealed by its watermark. */
function sealedHours(truth: TruthFile, start: number): number[] {
  return truthHours(truth).filter((h) => h + HOUR <= start + 3 * HOUR - 10 * 60_000);
}

/** Whether the speed layer and the archiver have both committed every message of the events topic. */
async function bothCaughtUp(scenario: Scenario): Promise<boolean> {
  return (await scenario.speedLag()) === 0 && (await scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!)) === 0;
}

/**
 * The rate the whole set-up sustains here: 1,000,000 events offered as fast as the collector takes
 * them (requests of 500, CALIBRATION_REQUESTS in flight: one, as the soak sends, is bounded by a
 * request's round trip), over the time until both consumers committed the last one.
 */
async function measureSustainedRate(): Promise<{ eventsPerSecond: number; events: number; ms: number; collectorEventsPerSecond: number }> {
  return withSoakScenario('soak-rate', async (scenario, archiveDir) => {
    const services = await startPlatform(scenario, archiveDir);
    const started = Date.now();
    const options = faultTraffic(7, CALIBRATION_EVENTS, { start: hourStart(Date.now()) - 3 * HOUR, span: 2 * HOUR, partitions: 16 });
    const sink = new HttpSink({ url: `http://127.0.0.1:${services.collector.metricsPort}`, batchSize: 500, concurrency: CALIBRATION_REQUESTS, maxRetries: 60 });
    const stats = await runGenerator({ stream: new EventStream({ ...options, rules: scenario.config.rules }), sink, rate: 0 });
    await sink.close();
    if (stats.failed > 0) throw new Error(`the calibration traffic failed: ${stats.lastError}`);
    const accepted = Date.now() - started;
    await timeUntil('both consumers to commit the calibration traffic', () => bothCaughtUp(scenario), 600_000, 250);
    const ms = Date.now() - started;
    return { eventsPerSecond: Math.round((stats.sent * 1000) / ms), events: stats.sent, ms, collectorEventsPerSecond: Math.round((stats.sent * 1000) / accepted) };
  });
}

interface Sample {
  /** Seconds since the traffic started. */
  readonly t: number;
  /** Each service's processes together. */
  readonly rssMiB: Record<ServiceName, number>;
  /** Each service's largest process: what the bound judges. */
  readonly largestProcessMiB: Record<ServiceName, number>;
  readonly speedLag: number;
  readonly redisUsedMiB: number;
}

/**
 * Per service: the peaks of its largest process in the middle and last thirds (what is judged)
 * and of its processes together, the slope over the second half, and whether it stayed bounded.
 * A process that leaks grows from one third to the next; a tree's sum also moves with how many
 * of its processes are busy at once (the batch service's two worker processes each hold one
 * job's memory, 1.2-2.6 GB, while it runs, and return it after), which is its workload's.
 */
function memoryVerdict(samples: readonly Sample[], seconds: number) {
  const inRange = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t < to);
  const peak = (part: readonly Sample[], series: (s: Sample) => number) => Math.max(0, ...part.map(series).filter(Number.isFinite));
  const middleThird = inRange(seconds / 3, (2 * seconds) / 3);
  const lastThird = inRange((2 * seconds) / 3, Infinity);
  return Object.fromEntries(
    SERVICES.map((name) => {
      const largest = (s: Sample) => s.largestProcessMiB[name];
      const tree = (s: Sample) => s.rssMiB[name];
      const middle = peak(middleThird, largest);
      const last = peak(lastThird, largest);
      const allowed = round(middle * 1.25 + 128);
      const slope = slopePerMinute(samples.filter((s) => s.t >= seconds / 2).map((s) => ({ t: s.t, v: tree(s) })));
      const verdict = { firstMiB: samples[0]?.rssMiB[name] ?? NaN, middlePeakMiB: middle, lastPeakMiB: last, allowedMiB: allowed, bounded: last <= allowed };
      return [name, { ...verdict, treeMiddlePeakMiB: peak(middleThird, tree), treeLastPeakMiB: peak(lastThird, tree), slopeLastHalfMiBPerMin: slope }];
    }),
  ) as Record<ServiceName, MemoryVerdict>;
}

interface MemoryVerdict {
  readonly firstMiB: number;
  /** The largest process's peaks, and what the last third's may be. */
  readonly middlePeakMiB: number;
  readonly lastPeakMiB: number;
  readonly allowedMiB: number;
  readonly bounded: boolean;
  /** The peaks of the service's processes together. */
  readonly treeMiddlePeakMiB: number;
  readonly treeLastPeakMiB: number;
  readonly slopeLastHalfMiBPerMin: number;
}

/** The archive's distinct event ids (counted in DuckDB, not in this process). */
async function archivedIds(archiveDir: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    const rows = await conn.runAndReadAll(`SELECT count(DISTINCT event_id)::DOUBLE FROM read_parquet($files, union_by_name = true, hive_partitioning = false)`, { files: listValue([path.join(archiveDir, 'events', '*', '*', '*.parquet')]) }, { files: LIST(VARCHAR) });
    return (rows.getRows()[0] as [number])[0];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The API's hourly metrics of every campaign against the truth's, per hour: cells that differ. */
async function apiDifferences(port: number, truth: TruthFile, windowMs: number): Promise<{ diffs: string[]; sources: Record<string, number> }> {
  const call = apiCaller(() => port);
  const hours = truthHours(truth);
  const expected = new Map<string, number>();
  for (const [key, n] of rollUpAds(expectedSpeedViews(truth, windowMs).metrics)) {
    const [campaign, window, metric] = key.split('\t');
    const cell = `${campaign}\t${hourStart(Number(window))}\t${metric}`;
    expected.set(cell, (expected.get(cell) ?? 0) + n);
  }
  const diffs: string[] = [];
  const sources: Record<string, number> = {};
  const names = { impressions: 'impressions', clicks: 'clicks', invalid_impressions: 'invalidImpressions', invalid_clicks: 'invalidClicks' } as const;
  for (const { campaign_id: campaign } of truth.catalogue.campaigns) {
    const answer = await call('GET', `/v1/campaigns/${campaign}/metrics?from=${hours[0]}&to=${hours[hours.length - 1]! + HOUR}&granularity=hour`, undefined, 'k');
    const rows = (answer.body?.['rows'] ?? []) as Record<string, number | string>[];
    for (const hour of hours) {
      const row = rows.find((r) => r['start'] === hour);
      if (row) sources[String(row['source'])] = (sources[String(row['source'])] ?? 0) + 1;
      for (const [metric, served] of Object.entries(names)) {
        const want = expected.get(`${campaign}\t${hour}\t${metric}`) ?? 0;
        const got = Number(row?.[served] ?? 0);
        if (want !== got && diffs.length < 20) diffs.push(`${campaign} ${new Date(hour).toISOString()} ${metric}: expected ${want}, served ${got}`);
      }
    }
  }
  return { diffs, sources };
}

interface FailedJob {
  id: string;
  name: string;
  attemptsMade: number;
  failedReason: string | null;
}

/**
 * The batch jobs whose last attempt failed, as the API lists them to ops (`GET /v1/jobs`). The
 * views' checks cannot see one: a compaction that failed every attempt leaves its hour in small
 * files, a recompute leaves its hour to the next one (the 2026-11-29 02:29 soak passed with both
 * sealed hours' compactions failed).
 */
async function batchJobsFailed(port: number): Promise<FailedJob[]> {
  const answer = await apiCaller(() => port)('GET', '/v1/jobs?state=failed&limit=200', undefined, 'k');
  if (answer.status !== 200) throw new Error(`GET /v1/jobs?state=failed answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  const jobs = (answer.body as { jobs: FailedJob[] }).jobs;
  return jobs.map(({ id, name, attemptsMade, failedReason }) => ({ id, name, attemptsMade, failedReason }));
}

describe(`platform soak: every service for ${SECONDS} s at a quarter of a fresh start's rate, one killed every ${KILL_EVERY_S} s`, () => {
  // A test that timed out leaves its services running (its `finally` is not reached): stopped here.
  afterAll(async () => {
    for (const scenario of [...open.keys()]) await closeScenario(scenario);
  });

  it('loses and double-counts nothing, every view equals the truth, no service grows without bound', { timeout: TEST_TIMEOUT_MS }, () =>
    faultScenario(
      'platform soak',
      async (row: RowDraft) => {
        const sustained = process.env['SIGFLOW_SOAK_RATE'] ? null : await measureSustainedRate();
        const rate = Number(process.env['SIGFLOW_SOAK_RATE'] ?? Math.floor(sustained!.eventsPerSecond * SHARE_OF_FRESH_RATE));
        row.details['sustained'] = sustained;
        row.details['rate'] = rate;

        const resultFile = path.join(repoRoot, 'bench/results/reliability-soak.json');
        await withSoakScenario('soak', async (scenario, archiveDir) => {
          const services = await startPlatform(scenario, archiveDir);
          const start = hourStart(Date.now()) - 3 * HOUR;
          const options = faultTraffic(11, rate * SECONDS, { start, span: 3 * HOUR, partitions: 16 });
          const started = Date.now();
          // Four clients, each with one request in flight and its share of the partitions (their order kept).
          // The ids are not kept (millions: the archive is checked against the truth's count of distinct ids).
          const traffic: Promise<Sent> = sendThroughCollector(scenario, `http://127.0.0.1:${services.collector.metricsPort}`, options, rate, { batchSize: 500, clients: 4, recordIds: false });

          // Every 5 s: each service's RSS, the speed layer's lag and Redis's memory; kills on the schedule.
          const samples: Sample[] = [];
          const kills: { t: number; service: ServiceName; healthyAfterMs: number }[] = [];
          let trafficDone = false;
          void traffic.finally(() => (trafficDone = true)).catch(() => undefined);
          const apiReads = { ok: 0, failed: 0 };
          const call = apiCaller(() => services.api.metricsPort);
          for (let next = started + SAMPLE_MS, k = 0; !trafficDone; next += SAMPLE_MS) {
            await sleep(Math.max(0, next - Date.now()));
            const t = round((Date.now() - started) / 1000);
            // A service that ended on its own (kills restart theirs at once) ends the soak now, saying how.
            const ended = SERVICES.filter((n) => !services[n].running).map((n) => `${n} (${services[n].ended}; log ${services[n].log})`);
            if (ended.length > 0) throw new Error(`at ${t} s of traffic, ended on its own: ${ended.join(', ')}`);
            const rss = SERVICES.map((n) => [n, serviceRssMiB(services[n], n)] as const);
            const rssMiB = Object.fromEntries(rss.map(([n, r]) => [n, r.tree])) as Record<ServiceName, number>;
            const largestProcessMiB = Object.fromEntries(rss.map(([n, r]) => [n, r.largest])) as Record<ServiceName, number>;
            const memory = /used_memory:(\d+)/.exec(await scenario.redis.info('memory'))?.[1];
            samples.push({ t, rssMiB, largestProcessMiB, speedLag: await scenario.speedLag().catch(() => NaN), redisUsedMiB: round(Number(memory) / MIB) });
            // What an analyst's dashboard asks meanwhile: one campaign's hours.
            const read = await call('GET', `/v1/campaigns/cmp-1/metrics?from=${start}&to=${start + 3 * HOUR}&granularity=hour`, undefined, 'k').catch(() => ({ status: 0 }));
            apiReads[read.status === 200 ? 'ok' : 'failed']++;
            if (samples.length % 12 === 0) fs.writeFileSync(resultFile, `${JSON.stringify({ bench: 'reliability-soak', partial: true, rate, sustained, samples }, null, 2)}\n`);
            const due = KILL_EVERY_S > 0 && t >= (k + 1) * KILL_EVERY_S && t < SECONDS - 30;
            if (due) {
              const service = KILL_ORDER[k % KILL_ORDER.length]!;
              const at = Date.now();
              await services[service].kill9();
              await services[service].start();
              kills.push({ t, service, healthyAfterMs: Date.now() - at });
              k++;
            }
          }
          const sent = await traffic;
          const trafficMs = Date.now() - started;

          // Recovery: the speed layer and the archiver caught up; then the batch layer has every hour right.
          const trafficEnd = Date.now();
          await waitSpeedCaughtUp(scenario, 300_000);
          const speedCaughtUpMs = Date.now() - trafficEnd;
          await timeUntil('the archiver to commit everything', async () => (await scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!)) === 0, 300_000, 500);
          const speed = await speedTally(scenario, sent.truth, { exactDuplicates: false });
          const sealed = sealedHours(sent.truth, start);
          let batch = await batchTally(scenario.redis, scenario, sent.truth, sealed);
          const batchRightMs = await timeUntil(
            'the batch layer to serve every sealed hour as the truth has it',
            async () => {
              batch = await batchTally(scenario.redis, scenario, sent.truth, sealed);
              return batch.diffs.length === 0;
            },
            900_000,
            5_000,
          ).catch(() => NaN);
          const api = await apiDifferences(services.api.metricsPort, sent.truth, scenario.config.rules.windowMs);
          const failedJobs = await batchJobsFailed(services.api.metricsPort);
          const memory = memoryVerdict(samples, SECONDS);
          // Running, or how it ended (a signal nobody here sent is the kernel's: the OOM killer).
          const alive = Object.fromEntries(SERVICES.map((n) => [n, services[n].ended ?? true]));
          // The archive read once nothing rewrites it (the archiver compacts small files, the batch layer reads them).
          await Promise.all([services.archiver.stop(), services.batch.stop()]);
          const archived = await archivedIds(archiveDir);

          Object.assign(row, {
            eventsSent: sent.truth.totals.sent,
            eventsInViews: speed.served,
            lost: speed.lost + batch.lost + Math.max(0, sent.truth.totals.unique - archived),
            doubleCounted: speed.doubleCounted + batch.doubleCounted + Math.max(0, archived - sent.truth.totals.unique),
            maxRecoveryMs: Math.max(...kills.map((k) => k.healthyAfterMs), 0),
            requestsFailed: sent.stats.failed,
          });
          const result = {
            bench: 'reliability-soak',
            at: new Date().toISOString(),
            machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => round(l, 2)), node: process.version },
            setup: { seconds: SECONDS, partitions: 16, killEverySeconds: KILL_EVERY_S, killOrder: KILL_ORDER, eventTime: { from: new Date(start).toISOString(), hours: 3 } },
            sustained,
            rate,
            traffic: { sent: sent.truth.totals.sent, unique: sent.truth.totals.unique, achievedEventsPerSecond: Math.round((sent.stats.sent * 1000) / trafficMs), retries: sent.stats.retries, failed: sent.stats.failed },
            kills,
            recovery: { speedCaughtUpMs, batchRightMs },
            views: { speed: { lost: speed.lost, doubleCounted: speed.doubleCounted, diffs: speed.diffs }, batch: { lost: batch.lost, doubleCounted: batch.doubleCounted, diffs: batch.diffs, hours: sealed.map((h) => new Date(h).toISOString()) }, api, archive: { idsSent: sent.truth.totals.unique, idsArchived: archived } },
            apiReads,
            failedJobs,
            memory,
            maxSpeedLag: Math.max(0, ...samples.map((s) => s.speedLag).filter(Number.isFinite)),
            redisUsedMiB: { first: samples[0]?.redisUsedMiB, last: samples.at(-1)?.redisUsedMiB },
            alive,
            samples,
          };
          fs.writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
          row.details = { ...row.details, file: path.relative(repoRoot, resultFile), kills, recovery: result.recovery, memory, apiReads, traffic: result.traffic };

          expect(alive).toEqual(Object.fromEntries(SERVICES.map((n) => [n, true])));
          expect(kills.length).toBe(Math.max(0, Math.ceil((SECONDS - 30) / KILL_EVERY_S) - 1));
          expect(result.traffic.achievedEventsPerSecond, 'the traffic kept its rate').toBeGreaterThan(rate * 0.95);
          expect(speed.diffs).toEqual([]);
          expect(batch.diffs).toEqual([]);
          expect(sealed.length).toBe(2);
          expect(batch.versions.size).toBe(sealed.length);
          expect(api.diffs).toEqual([]);
          expect(archived).toBe(sent.truth.totals.unique);
          expect(apiReads.failed, 'API reads that failed during the soak').toBe(0);
          expect(failedJobs, 'batch jobs whose last attempt failed (each with its error)').toEqual([]);
          for (const [name, m] of Object.entries(memory)) expect(m.bounded, `${name} RSS of its largest process: middle third's peak ${m.middlePeakMiB} MiB, last third's ${m.lastPeakMiB}`).toBe(true);
        });
      },
      'soak',
    ));
});
