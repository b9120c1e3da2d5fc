import fs from 'node:fs';
import path from 'node:path';
import { type RedisClient, createRedis, StoreKeys } from '@sigflow/store';
import { readBatchHourEntries } from '@sigflow/store/batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import type { ReceivedEvent } from '@sigflow/events';
import { foldOutcomes, pickFirstCopies, processBatch, trainMarkovChain, trainShapleyTable, type EventOutcome } from '@sigflow/core';
import { listHourFiles, type ArchivedEvent } from '@sigflow/archive';
import { compactHour, createBatchContext, DuckDBSession, recomputeHours, viewFolder } from '../src/index.js';
import {
  DAY,
  GOOGLEBOT_UA,
  HOUR,
  MINUTE,
  SECOND,
  T0,
  actualHashes,
  click,
  compactingOnFirstRead,
  conversion,
  elementClick,
  expectedHashes,
  impression,
  pageView,
  rounded,
  seededRandom,
  testConfig,
  withBatch,
  writeArchive, endTestRun } from './helpers.js';

const ads = [
  { ad: 'a1', campaign: 'c1', channel: 'search' },
  { ad: 'a2', campaign: 'c1', channel: 'display' },
  { ad: 'a3', campaign: 'c2', channel: 'social' },
  { ad: 'a4', campaign: 'c2', channel: 'email' },
];

/** One user's events over [T0 - 2 d, T0 + 3 h): old touchpoints, then busy hours with every rule. */
function userEvents(user: string, ip: string, random: () => number): ReceivedEvent[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const events: ReceivedEvent[] = [];
  let seq = 0;
  const id = () => `${user}-${(seq++).toString().padStart(4, '0')}`;
  const base = (ts: number) => ({ id: id(), ts, user, ip, ...(random() < 0.03 ? { ua: GOOGLEBOT_UA } : {}) });
  // CPM impressions (a few thousand micros) and CPC clicks (under 1 EUR); some touchpoints carry no cost.
  const cost = (max: number) => (random() < 0.9 ? { cost: Math.floor(random() * max) } : {});
  // Touchpoints two days before: only attribution of later conversions needs them.
  for (let i = 0; i < 3; i++) {
    const ad = pick(ads);
    const ts = T0 - 2 * DAY + Math.floor(random() * HOUR);
    events.push(impression({ ...base(ts), ...ad }), click({ ...base(ts + 5 * SECOND), ...ad }));
  }
  let ts = T0 + Math.floor(random() * 10 * MINUTE);
  let lastAd = pick(ads);
  while (ts < T0 + 3 * HOUR) {
    const kind = random();
    if (kind < 0.3) {
      lastAd = pick(ads);
      events.push(impression({ ...base(ts), ...lastAd, ...cost(5_000) }));
      // Too fast to be human.
      if (random() < 0.1) events.push(click({ ...base((ts += 400)), ...lastAd, ...cost(900_000) }));
    } else if (kind < 0.5) {
      events.push(click({ ...base(ts), ...(random() < 0.85 ? lastAd : pick(ads)), ...cost(900_000) }));
    } else if (kind < 0.53) {
      for (let k = 0; k < 12; k++) events.push(click({ ...base((ts += 400)), ...lastAd, ...cost(900_000) }));
    } else if (kind < 0.63) {
      events.push(conversion({ ...base(ts), ...(random() < 0.7 ? { value: Math.floor(random() * 100) } : {}) }));
    } else if (kind < 0.8) {
      events.push(elementClick({ ...base(ts), page: pick(['home', 'pricing']), element: pick(['buy', 'nav', 'logo']) }));
    } else {
      events.push(pageView({ ...base(ts), page: 'home' }));
    }
    ts += Math.floor(random() * 90 * SECOND) + (random() < 0.05 ? 40 * MINUTE : 0);
  }
  return events;
}

/** Events of 12 users over 2 partitions (IPs shared within a partition), with duplicate copies. */
function dataset(seed: number): { copies: ArchivedEvent[]; replays: ArchivedEvent[] } {
  const random = seededRandom(seed);
  const copies: ArchivedEvent[] = [];
  const offsets = [0, 0];
  const byPartition: ReceivedEvent[][] = [[], []];
  for (let u = 0; u < 12; u++) {
    const partition = u % 2;
    const ip = `10.0.${partition}.${u % 3}`;
    for (const e of userEvents(`user${u}`, ip, random)) {
      (byPartition[partition] as ReceivedEvent[]).push(e);
      // A later copy (a client retry), sometimes stamped earlier by another collector.
      if (random() < 0.04) (byPartition[partition] as ReceivedEvent[]).push({ ...e, received_at: e.received_at + (random() < 0.5 ? 900 : -1) });
    }
  }
  byPartition.forEach((events, partition) => {
    for (const event of events.sort((a, b) => a.received_at - b.received_at)) {
      copies.push({ event, partition, offset: String(offsets[partition]!++) });
    }
  });
  // Exact replays of some messages (the archiver wrote them twice after a crash).
  const replays = copies.filter((_, i) => i % 50 === 7);
  return { copies, replays };
}

/** The installed isbot's version, from its package.json (the workspace's hoisted copy). */
function installedIsbotVersion(): string {
  const file = path.resolve(import.meta.dirname, '../../../node_modules/isbot/package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The speed-equivalent truth: first copies, core's processBatch per partition, outcomes of [from, to). */
function expectedOutcomes(copies: readonly ArchivedEvent[], from: number, to: number, options: Parameters<typeof processBatch>[1]): EventOutcome[] {
  const outcomes: EventOutcome[] = [];
  for (const partition of [0, 1]) {
    const mine = copies.filter((c) => c.partition === partition).map((c) => ({ ...c, received_at: c.event.received_at, event_id: c.event.event_id }));
    const first = pickFirstCopies(mine).first.map((c) => c.event);
    outcomes.push(...processBatch(first, options).outcomes.filter((o) => o.ts >= from && o.ts < to));
  }
  return outcomes;
}

describe('recomputeHours over the Parquet archive', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  let duckdb: DuckDBSession;
  const data = dataset(11);
  const shapley = trainShapleyTable(
    [
      { channels: ['search'], converted: true },
      { channels: ['search', 'display'], converted: true },
      { channels: ['display'], converted: false },
      { channels: ['social', 'email'], converted: true },
      { channels: ['email'], converted: false },
    ],
    'test-table-1',
  );
  const markov = trainMarkovChain([
    { channels: ['search', 'display'], converted: true },
    { channels: ['social'], converted: false },
    { channels: ['email', 'search'], converted: true },
    { channels: ['display'], converted: false },
  ]);

  beforeAll(async () => {
    ({ config, dir } = testConfig('recompute'));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    await redis.set(keys.shapleyTable(), JSON.stringify(shapley));
    await redis.set(keys.shapleyVersion(), shapley.version);
    await redis.set(keys.markovModel(), JSON.stringify({ version: 'm-test', from: 0, to: 1, model: markov }));
    await writeArchive(config.archiver.dir, data.copies);
    await writeArchive(config.archiver.dir, data.replays);
    duckdb = await DuckDBSession.open({ threads: 2 });
  });

  afterAll(() => endTestRun({ config, dir, redis, duckdb }));

  it('one hour in the middle, with its context read from before it, equals core processBatch over everything', async () => {
    const from = T0 + HOUR;
    const to = T0 + 2 * HOUR;
    const result = await recomputeHours({ config, redis, from, to, duckdb, computedBy: 'test' });
    expect(result.hours).toHaveLength(1);
    let [hour] = result.hours;
    expect(hour?.replaced).toBe(true);

    const outcomes = expectedOutcomes(data.copies, from, to, { settings: config.rules, shapley, markov });
    const deltas = foldOutcomes(outcomes);
    // The data exercises the rules and the old context.
    expect(new Set(outcomes.map((o) => o.reason))).toEqual(new Set([null, 'bot', 'flood', 'orphan', 'too_fast']));
    expect(outcomes.some((o) => o.attribution?.credits.markov && o.attribution.pathLength > 0)).toBe(true);
    expect(outcomes.some((o) => o.attribution?.credits.last_touch.some((c) => c.touchpoint_ts !== null && c.touchpoint_ts < T0))).toBe(true);
    // Spend and refund claims (invalid spend) per channel are among the views compared.
    expect(deltas.spend.some((m) => m.spend > 0) && deltas.spend.some((m) => m.invalidSpend > 0)).toBe(true);

    const actual = await actualHashes(redis, keys, from, hour!.version);
    expect(rounded(actual)).toEqual(rounded(expectedHashes(deltas)));
    // Running every event through the rules (not only the view types) gives the same views.
    const [all] = (await recomputeHours({ config: withBatch(config, { viewEventsOnly: false, writeViewParquet: false }), redis, from, to, duckdb })).hours;
    expect(rounded(await actualHashes(redis, keys, from, all!.version))).toEqual(rounded(actual));
    expect((await readBatchHourEntries(redis, keys, [from])).get(from)?.rows).toBe(deltas.counts.events);
    // Rules in three threads sharded by user: the same views as processBatch over everything.
    const [threaded] = (await recomputeHours({ config: withBatch(config, { ruleThreads: 3, writeViewParquet: false }), redis, from, to, duckdb })).hours;
    expect(rounded(await actualHashes(redis, keys, from, threaded!.version))).toEqual(rounded(expectedHashes(deltas)));
    expect((await readBatchHourEntries(redis, keys, [from])).get(from)?.rows).toBe(deltas.counts.events);
    // Serve (and write Parquet for) the default run again for the checks below.
    [hour] = (await recomputeHours({ config, redis, from, to, duckdb, computedBy: 'test' })).hours;

    const entry = (await readBatchHourEntries(redis, keys, [from])).get(from);
    const copiesInHour = data.copies.filter((c) => c.event.ts >= from && c.event.ts < to);
    expect(entry).toMatchObject({
      version: hour!.version,
      rows: deltas.counts.events,
      duplicates: copiesInHour.length - new Set(copiesInHour.map((c) => c.event.event_id)).size,
      shapleyVersion: 'test-table-1',
      markovVersion: 'm-test',
      // The bot list the rules ran with, as installed (read here from the package itself).
      isbotVersion: installedIsbotVersion(),
      computedBy: 'test',
    });
    expect(entry?.isbotVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(entry!.duplicates).toBeGreaterThan(0);

    // Analysts' Parquet copy of the same hour.
    const metricsFile = path.join(viewFolder(config.archiver.dir, 'window_metrics', from), 'data.parquet');
    const reader = await duckdb.connection.runAndReadAll(
      'SELECT sum(impressions)::BIGINT, sum(clicks)::BIGINT, any_value(version) FROM read_parquet($f)',
      { f: metricsFile },
    );
    const [[impressions, clicks, version]] = reader.getRowsJS() as [[bigint, bigint, string]];
    expect(Number(impressions)).toBe(deltas.windowMetrics.reduce((a, m) => a + m.impressions, 0));
    expect(Number(clicks)).toBe(deltas.windowMetrics.reduce((a, m) => a + m.clicks, 0));
    expect(version).toBe(hour!.version);
  });

  it('is idempotent: a second run writes a new version with the same views and retires the old one', async () => {
    const from = T0;
    const to = T0 + 3 * HOUR;
    const first = await recomputeHours({ config, redis, from, to, duckdb });
    const second = await recomputeHours({ config, redis, from, to, duckdb });
    expect(first.hours.map((h) => h.hourStart)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    for (let i = 0; i < 3; i++) {
      const a = first.hours[i]!;
      const b = second.hours[i]!;
      expect(b.version).not.toBe(a.version);
      expect(rounded(await actualHashes(redis, keys, b.hourStart, b.version))).toEqual(
        rounded(await actualHashes(redis, keys, a.hourStart, a.version)),
      );
      // The replaced version stays readable for a while, then expires.
      const ttl = await redis.ttl(keys.batchMetrics('c1', a.hourStart, a.version));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3600);
      expect(await redis.ttl(keys.batchMetrics('c1', b.hourStart, b.version))).toBeGreaterThan(3600);
    }
    const entries = await readBatchHourEntries(redis, keys, [T0, T0 + HOUR, T0 + 2 * HOUR]);
    expect([...entries.values()].map((e) => e.version)).toEqual(second.hours.map((h) => h.version));
    // Three hours straight equal three separate one-hour truths.
    for (const h of second.hours) {
      const deltas = foldOutcomes(expectedOutcomes(data.copies, h.hourStart, h.hourStart + HOUR, { settings: config.rules, shapley, markov }));
      expect(rounded(await actualHashes(redis, keys, h.hourStart, h.version))).toEqual(rounded(expectedHashes(deltas)));
    }
  });

  it('compaction merges an hour into one file per partition without changing its views', async () => {
    const ctx = createBatchContext(withBatch(config, { writeViewParquet: false }), redis);
    const before = await listHourFiles(config.archiver.dir, T0);
    expect(before.length).toBe(4); // first writes and replays, two partitions
    const result = await compactHour({ context: ctx, hour: T0, force: true, duckdb });
    expect(result).toMatchObject({ filesBefore: 4, filesAfter: 2 });
    const inHour = data.copies.filter((c) => c.event.ts >= T0 && c.event.ts < T0 + HOUR);
    expect(result.rows).toBe(inHour.length); // exact replays kept once, real copies kept
    const served = (await readBatchHourEntries(redis, keys, [T0])).get(T0)!;
    const [again] = (await recomputeHours({ context: ctx, from: T0, to: T0 + HOUR, duckdb })).hours;
    expect(rounded(await actualHashes(redis, keys, T0, again!.version))).toEqual(rounded(await actualHashes(redis, keys, T0, served.version)));
    expect((await readBatchHourEntries(redis, keys, [T0])).get(T0)).toMatchObject({ rows: served.rows, duplicates: served.duplicates });
    // Not sealed (no archive watermark reported): the scheduled kind leaves it alone.
    expect(await compactHour({ context: ctx, hour: T0 + HOUR, duckdb })).toMatchObject({ skipped: 'not sealed' });
  });

  it('a compaction that replaces listed files before DuckDB reads them: the pass reads what it listed, the views equal processBatch over everything', async () => {
    const from = T0 + HOUR;
    const to = T0 + 2 * HOUR;
    const ctx = createBatchContext(withBatch(config, { writeViewParquet: false }), redis);
    expect(await listHourFiles(config.archiver.dir, from)).toHaveLength(4);
    // The race as it happens on a local archive: the reader has its paths, then the hour's
    // compaction renames its merged files in and deletes the inputs, then DuckDB opens them
    // (the read's links to them: the rows it listed).
    const race = compactingOnFirstRead(ctx, from);
    const [hour] = (await recomputeHours({ context: { ...ctx, archive: race.archive }, from, to, duckdb })).hours;
    expect(race.compactions).toMatchObject([{ filesBefore: 4, filesAfter: 2 }]);
    const deltas = foldOutcomes(expectedOutcomes(data.copies, from, to, { settings: config.rules, shapley, markov }));
    expect(rounded(await actualHashes(redis, keys, from, hour!.version))).toEqual(rounded(expectedHashes(deltas)));
    expect((await readBatchHourEntries(redis, keys, [from])).get(from)?.rows).toBe(deltas.counts.events);
  });

  it("reads converting users' lookback from the touchpoint verdicts of computed hours: the same views as processBatch over everything", async () => {
    // Every hour with archive files before T0 + H computed: the touchpoints two days before and T0.
    const old = T0 - 2 * DAY;
    const perHour = withBatch(config, { hoursPerPass: 1 });
    // (A click 5 s after an impression of the hour's end lands in the next one.)
    const first = await recomputeHours({ config: perHour, redis, from: old, to: old + 2 * HOUR, duckdb });
    // Nothing is archived before the first: an empty lookback, which no verdict is missing from.
    expect(first).toMatchObject({ passes: 2, passesFromVerdicts: 2 });
    await recomputeHours({ config: perHour, redis, from: T0, to: T0 + HOUR, duckdb });
    const result = await recomputeHours({ config: perHour, redis, from: T0 + HOUR, to: T0 + 3 * HOUR, duckdb });
    expect(result).toMatchObject({ passes: 2, passesFromVerdicts: 2 });
    for (const h of result.hours) {
      const deltas = foldOutcomes(expectedOutcomes(data.copies, h.hourStart, h.hourStart + HOUR, { settings: config.rules, shapley, markov }));
      expect(rounded(await actualHashes(redis, keys, h.hourStart, h.version))).toEqual(rounded(expectedHashes(deltas)));
    }

    // The rules in three threads replay the verdicts alike (and send their invalid ids back).
    const threaded = await recomputeHours({ config: withBatch(perHour, { ruleThreads: 3 }), redis, from: T0 + HOUR, to: T0 + 2 * HOUR, duckdb });
    expect(threaded).toMatchObject({ passes: 1, passesFromVerdicts: 1 });
    const hourOne = foldOutcomes(expectedOutcomes(data.copies, T0 + HOUR, T0 + 2 * HOUR, { settings: config.rules, shapley, markov }));
    expect(rounded(await actualHashes(redis, keys, T0 + HOUR, threaded.hours[0]!.version))).toEqual(rounded(expectedHashes(hourOne)));

    // An hour's verdicts (those the threads' run wrote, which now serves the hour): its first
    // copies' impressions and clicks, invalid as processBatch judged them.
    const hour = threaded.hours[0]!;
    const truth = expectedOutcomes(data.copies, hour.hourStart, hour.hourStart + HOUR, { settings: config.rules, shapley, markov }).filter(
      (o) => o.type === 'impression' || o.type === 'click',
    );
    const folder = path.join(config.archiver.dir, 'verdicts', path.relative(path.join(config.archiver.dir, 'events'), path.dirname((await listHourFiles(config.archiver.dir, hour.hourStart))[0]!)));
    // Only the serving version's file is kept.
    const files = fs.readdirSync(folder);
    expect(files).toHaveLength(1);
    expect(files[0]!.startsWith(`${hour.version}.`)).toBe(true);
    const rows = await duckdb.connection.runAndReadAll('SELECT event_id, valid FROM read_parquet($f) ORDER BY event_id', { f: path.join(folder, files[0]!) });
    const written = rows.getRowsJS() as [string, boolean][];
    expect(written).toHaveLength(truth.length);
    expect(written.filter(([, valid]) => !valid).map(([id]) => id)).toEqual(truth.filter((o) => o.status === 'invalid').map((o) => o.event_id).sort());
    expect(written.some(([, valid]) => !valid) && written.some(([, valid]) => valid)).toBe(true);

    // Other rule settings: the verdicts were decided under others, and the archive is read again.
    const stricter = { ...perHour, rules: { ...perHour.rules, floodThreshold: perHour.rules.floodThreshold + 1 } };
    expect(await recomputeHours({ config: stricter, redis, from: T0 + 2 * HOUR, to: T0 + 3 * HOUR, duckdb })).toMatchObject({ passesFromVerdicts: 0 });

    // A dirty hour in the lookback (a file landed after it was computed): the archive is read again.
    await redis.zadd(keys.dirtyHours(), Date.now(), String(T0));
    const again = await recomputeHours({ config: perHour, redis, from: T0 + HOUR, to: T0 + 2 * HOUR, duckdb });
    expect(again).toMatchObject({ passes: 1, passesFromVerdicts: 0 });
    const deltas = foldOutcomes(expectedOutcomes(data.copies, T0 + HOUR, T0 + 2 * HOUR, { settings: config.rules, shapley, markov }));
    expect(rounded(await actualHashes(redis, keys, T0 + HOUR, again.hours[0]!.version))).toEqual(rounded(expectedHashes(deltas)));
  });
});
