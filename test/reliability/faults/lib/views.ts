// The served views against the generator's truth, as the reliability table counts them:
// lost = expected - served where positive, double-counted = served - expected where positive,
// summed over the compared counters and view cells.
import path from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { expect } from 'vitest';
import type { RedisClient } from '@sigflow/store';
import { batchKeyspace, readBatchHourEntries } from '@sigflow/store/batch';
import type { TruthFile } from '@sigflow/loadgen';
import { hourStart } from '@sigflow/core';
import type { Scenario } from '../../../support/scenario.js';
import { expectedSpeedViews, readSpeedViews, readViews, truthHours, type ViewRows } from '../../../support/speed-truth.js';
import type { ClientLog } from './client-log.js';
import { timeUntil, type RowDraft } from './fault-run.js';
import type { Sent, SentIds } from './traffic.js';

export interface Tally {
  /** Distinct events the truth says the views must count. */
  readonly expected: number;
  /** Distinct events the views count. */
  readonly served: number;
  readonly lost: number;
  readonly doubleCounted: number;
  /** The first differences, readable. */
  readonly diffs: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Counter {
  lost = 0;
  doubleCounted = 0;
  readonly diffs: string[] = [];
  /** Adds the difference of one cell (`tolerance` relative, for float sums). */
  cell(name: string, expected: number, served: number, tolerance = 0): void {
    if (Math.abs(expected - served) <= tolerance * Math.max(1, Math.abs(expected))) return;
    if (expected > served) this.lost += expected - served;
    else this.doubleCounted += served - expected;
    if (this.diffs.length < 20) this.diffs.push(`${name.replaceAll('\t', ' | ')}: expected ${expected}, got ${served}`);
  }
  rows(kind: string, expected: ViewRows, served: ViewRows, filter: (key: string) => boolean = () => true, tolerance = 0): void {
    for (const key of new Set([...expected.keys(), ...served.keys()])) {
      if (filter(key)) this.cell(`${kind} ${key}`, expected.get(key) ?? 0, served.get(key) ?? 0, tolerance);
    }
  }
  tally(expected: number, served: number): Tally {
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return { expected, served, lost: round(this.lost), doubleCounted: round(this.doubleCounted), diffs: this.diffs };
  }
}

/** Attribution cells compared: conversion credits (revenue cells follow them). */
const creditCells = (key: string) => key.endsWith('\tc');

/** Partitions whose stored speed offset is behind the log end, summed (0 = caught up). */
export function speedBehind(scenario: Scenario): Promise<number> {
  return scenario.speedLag();
}

/** Waits until the speed layer committed every message of the events topic (its offsets in Redis). */
export async function waitSpeedCaughtUp(scenario: Scenario, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let behind = Infinity;
  while (Date.now() < deadline) {
    behind = await speedBehind(scenario).catch(() => Infinity);
    if (behind === 0) return;
    await sleep(250);
  }
  throw new Error(`the speed layer is still ${behind} messages behind after ${timeoutMs} ms`);
}

/**
 * Speed views and counters against the truth. `exactDuplicates`: the duplicate counter must
 * equal the truth's (false when clients re-sent batches: those extra copies are dropped as
 * duplicates, and only the first copies must count). `extraEvents`: events the test posted
 * beside the generator's (a person's before their deletion), which the event counter counts.
 */
export async function speedTally(scenario: Scenario, truth: TruthFile, { exactDuplicates = true, extraEvents = 0 } = {}): Promise<Tally & { duplicates: number }> {
  const counters = await scenario.speedCounters();
  const c = new Counter();
  const served = Number(counters['events'] ?? 0);
  c.cell('counter events', truth.totals.unique + extraEvents, served);
  const duplicates = Number(counters['duplicates'] ?? 0);
  if (exactDuplicates) c.cell('counter duplicates', truth.totals.duplicates, duplicates);
  else c.cell('counter duplicates (at least)', truth.totals.duplicates, Math.min(duplicates, truth.totals.duplicates));
  for (const [reason, n] of Object.entries(truth.totals.invalid)) c.cell(`counter invalid:${reason}`, n, Number(counters[`invalid:${reason}`] ?? 0));
  const expected = expectedSpeedViews(truth, scenario.config.rules.windowMs);
  const actual = await readSpeedViews(scenario.redis, scenario.speedKeyspaces(), truth);
  c.rows('metrics', expected.metrics, actual.metrics);
  c.rows('heatmap', expected.heatmap, actual.heatmap);
  c.rows('attribution', expected.attribution, actual.attribution, creditCells, 1e-9);
  // Revenue and spend only as a check (their unit is money, not events).
  const revenue = new Counter();
  revenue.rows('attribution', expected.attribution, actual.attribution, (k) => k.endsWith('\tr'), 1e-9);
  revenue.rows('spend', expected.spend, actual.spend);
  return { ...c.tally(truth.totals.unique, served), diffs: [...c.diffs, ...revenue.diffs], duplicates };
}

/**
 * Batch views of the truth's hours (the versions switched in) against the truth (no late events:
 * batch = speed truth); `hours`: only those (the hours the batch layer has sealed).
 */
export async function batchTally(redis: RedisClient, scenario: Scenario, truth: TruthFile, hours = truthHours(truth)): Promise<Tally & { versions: Map<number, string> }> {
  const entries = await readBatchHourEntries(redis, scenario.keys, hours);
  const versions = new Map([...entries].map(([h, e]) => [h, e.version]));
  const c = new Counter();
  for (const h of hours) if (!entries.has(h)) c.diffs.push(`hour ${new Date(h).toISOString()} has no batch version`);
  const expected = expectedSpeedViews(truth, scenario.config.rules.windowMs);
  const actual = await readViews(redis, (h) => (entries.has(h) ? batchKeyspace(scenario.keys, entries.get(h)!.version) : null), truth);
  // Every view's key is `${name}\t${window start}\t...`: a cell counts when its window's hour does.
  const compared = new Set(hours);
  const inHours = (key: string) => compared.has(hourStart(Number(key.split('\t')[1])));
  c.rows('metrics', expected.metrics, actual.metrics, inHours);
  c.rows('heatmap', expected.heatmap, actual.heatmap, inHours);
  c.rows('attribution', expected.attribution, actual.attribution, (k) => creditCells(k) && inHours(k), 1e-9);
  // Spend only as a check (its unit is money, not events).
  const spend = new Counter();
  spend.rows('spend', expected.spend, actual.spend, inHours);
  const rows = [...entries.values()].reduce((a, e) => a + e.rows, 0);
  const tally = c.tally(truth.totals.unique, rows);
  return { ...tally, diffs: [...tally.diffs, ...spend.diffs], versions };
}

export interface ArchiveTally extends Tally {
  /** Distinct Kafka messages (partition, offset) archived. */
  readonly messages: number;
  /** Rows beyond the distinct messages: replays of a message (at-least-once, deduplicated later). */
  readonly replayedRows: number;
  /** Messages the sink handed on (copies included). */
  readonly copiesSent: number;
}

/**
 * The Parquet archive against the ids sent: every id present exactly once after the batch
 * layer's dedupe (by event_id), with as many distinct messages as copies were sent
 * (`extraCopies`: clients re-sent batches, so more messages are fine).
 */
export function archiveTally(archiveDir: string, sent: SentIds, options: { extraCopies?: boolean } = {}): Promise<ArchiveTally> {
  return archiveFilesTally([path.join(archiveDir, 'events', '*', '*', '*.parquet')], sent, options);
}

/** {@link archiveTally} of the Parquet files (paths or globs) `paths`: copies of an archive on S3, say. */
export async function archiveFilesTally(paths: readonly string[], sent: SentIds, { extraCopies = false } = {}): Promise<ArchiveTally> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    const files = { files: listValue([...paths]) };
    const types = { files: LIST(VARCHAR) };
    const source = `read_parquet($files, union_by_name = true, hive_partitioning = false)`;
    const totals = (
      await conn.runAndReadAll(
        `SELECT count(*)::DOUBLE, count(DISTINCT (kafka_partition, kafka_offset))::DOUBLE FROM ${source}`,
        files,
        types,
      )
    ).getRows()[0] as [number, number];
    const perId = (
      await conn.runAndReadAll(
        `SELECT event_id, count(DISTINCT (kafka_partition, kafka_offset))::DOUBLE FROM ${source} GROUP BY event_id`,
        files,
        types,
      )
    ).getRows() as [string, number][];
    const archived = new Map(perId);
    const c = new Counter();
    let copiesSent = 0;
    for (const [id, copies] of sent) {
      copiesSent += copies;
      const got = archived.get(id) ?? 0;
      if (got === 0) c.cell(`event ${id}`, 1, 0);
      else if (got < copies) c.cell(`copies of ${id}`, copies, got);
      else if (got > copies && !extraCopies) c.cell(`copies of ${id}`, copies, got);
    }
    for (const id of archived.keys()) if (!sent.has(id)) c.cell(`unknown event ${id}`, 0, 1);
    const [rows, messages] = totals;
    return { ...c.tally(sent.size, archived.size), messages, replayedRows: rows - messages, copiesSent };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * After a fault on the collector's path (clients re-sending through HTTP): the clients' log
 * closed, the traffic sent, and, once the speed layer and the archiver caught up, the speed views
 * (re-sent copies are dropped, so the duplicate counter may exceed the truth's) and the archive
 * (copies allowed) against the truth, with the row's counts filled.
 */
export async function collectorPathOutcome(scenario: Scenario, archiveDir: string, traffic: Promise<Sent>, log: ClientLog, row: RowDraft) {
  log.faultEnded();
  const sent = await traffic;
  const clients = log.summary();
  log.uninstall();
  const requestsFailed = clients.failedDuringFault;
  await waitSpeedCaughtUp(scenario, 60_000);
  const group = scenario.env['SIGFLOW_ARCHIVER_GROUP']!;
  await timeUntil('the archiver to commit everything', async () => (await scenario.groupLag(group)) === 0, 60_000, 250);
  const views = await speedTally(scenario, sent.truth, { exactDuplicates: false });
  const archive = await archiveTally(archiveDir, sent.ids, { extraCopies: true });
  Object.assign(row, {
    eventsSent: sent.truth.totals.sent,
    eventsInViews: views.served,
    lost: views.lost + archive.lost,
    doubleCounted: views.doubleCounted + archive.doubleCounted,
    requestsFailed,
  });
  return { sent, clients, views, archive };
}

/**
 * What every fault on the collector's path must leave: no event rejected, lost or counted twice
 * (views and archive), no client left hanging or answered 5xx but 503, and the fault seen by the
 * clients (503s, re-sent).
 */
export function expectCollectorPathWhole({ sent, clients, views, archive }: Awaited<ReturnType<typeof collectorPathOutcome>>): void {
  expect(sent.stats.rejectReasons).toEqual({});
  expect(archive.diffs).toEqual([]);
  expect(views.diffs).toEqual([]);
  expect(clients.hangs).toBe(0);
  expect(clients.serverErrors).toBe(0);
  expect(clients.byStatus['503'] ?? 0).toBeGreaterThan(0);
}
