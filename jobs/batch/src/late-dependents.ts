import fs from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { listRangeFiles, withArchiveColumns } from '@sigflow/archive';
import { markDirtyCommand, parseBatchHourEntry } from '@sigflow/store';
import type { BatchContext } from './batch-context.js';
import { filesParam, readFiles } from './archive-scan.js';
import { ArchiveScanError } from './errors.js';
import { floorHour, HOUR_MS, hoursOf } from './hour-range.js';

/**
 * A file counts as landed after a computation when its inode changed later than this before the
 * computation's `asOf`: the rename that lands a file sets its ctime a moment after the archiver's
 * write, on a clock that may step; erring this way only recomputes an hour more.
 */
export const landingClockMarginMs = 2_000;

/** A dirty hour of a recompute's range, and the later hours it may have made stale. */
interface LateSource {
  readonly hour: number;
  /** When the hour last received a file (the dirty score). */
  readonly landedAt: number;
  /** Computed hours after it, outside the range, whose computation started before `landedAt`. */
  readonly stale: readonly { hour: number; asOf: number }[];
}

/**
 * Marks dirty the hours outside [from, to) that a late file in the range can change, before the
 * range's recompute takes its hours off the dirty set (after which nothing remembers the file
 * came late). DESIGN.md's rules reach past an event's hour in two ways:
 * - validity: an impression or click changes the join, user flood and IP flood verdicts of
 *   clicks up to `max(joinWindow, floodWindow)` after it, so a late touchpoint that close to
 *   its hour's end makes the next hour stale;
 * - attribution: a conversion's path holds its user's valid touchpoints of the lookback before
 *   it, so the hours with conversions of the late touchpoints' users, and of the users whose
 *   clicks share a late click's IP flood window, within the lookback are stale.
 * Only hours computed before the file landed (their `asOf`) can be stale; an hour computed later
 * read it. The late files are those whose inode changed after the earliest such computation.
 * Returns the hours marked, sorted.
 */
export async function markLateDependents(ctx: BatchContext, conn: DuckDBConnection, from: number, to: number): Promise<number[]> {
  const sources = await lateSources(ctx, from, to);
  const marked = new Set<number>();
  for (const source of sources) {
    for (const hour of await staleHoursOf(ctx, conn, source)) {
      const mark = markDirtyCommand(ctx.keys, [hour], source.landedAt);
      if (mark) await ctx.redis.call(...(mark as [string, ...(string | number)[]]));
      marked.add(hour);
    }
  }
  return [...marked].sort((a, b) => a - b);
}

/** The dirty hours of [from, to) with computed later hours (outside it) that may not have read their last file. */
async function lateSources(ctx: BatchContext, from: number, to: number): Promise<LateSource[]> {
  const hours = hoursOf(from, to);
  const scores = await ctx.redis.zmscore(ctx.keys.dirtyHours(), ...hours.map(String));
  const dirty = hours.flatMap((hour, i) => (scores[i] === null ? [] : [{ hour, landedAt: Number(scores[i]) }]));
  const sources: LateSource[] = [];
  for (const { hour, landedAt } of dirty) {
    const reach = floorHour(hour + HOUR_MS - 1 + Math.max(ctx.settings.attributionLookbackMs, ruleWindowMs(ctx))) + HOUR_MS;
    const later = hoursOf(hour + HOUR_MS, reach).filter((h) => h < from || h >= to);
    if (later.length === 0) continue;
    const entries = await ctx.redis.hmget(ctx.keys.batchHours(), ...later.map(String));
    const stale = later.flatMap((h, i) => {
      const entry = parseBatchHourEntry(entries[i]);
      return entry !== null && entry.asOf < landedAt ? [{ hour: h, asOf: entry.asOf }] : [];
    });
    if (stale.length > 0) sources.push({ hour, landedAt, stale });
  }
  return sources;
}

function ruleWindowMs(ctx: BatchContext): number {
  return Math.max(ctx.settings.joinWindowMs, ctx.settings.floodWindowMs);
}

/** The files of an hour whose inode changed after `since` (less the clock margin). */
async function filesLandedAfter(root: string, hour: number, since: number): Promise<string[]> {
  const late: string[] = [];
  for (const file of await listRangeFiles(root, hour, hour + HOUR_MS)) {
    const stat = await fs.stat(file).catch(() => null);
    if (stat !== null && Math.max(stat.mtimeMs, stat.ctimeMs) > since - landingClockMarginMs) late.push(file);
  }
  return late;
}

/** The stale hours of one late source: the next hour by the validity windows, the rest by conversions. */
async function staleHoursOf(ctx: BatchContext, conn: DuckDBConnection, source: LateSource): Promise<number[]> {
  const lateFiles = await filesLandedAfter(ctx.root, source.hour, Math.min(...source.stale.map((s) => s.asOf)));
  if (lateFiles.length === 0) return [];
  const next = source.hour + HOUR_MS;
  const neighbourFiles = await listRangeFiles(ctx.root, source.hour, next + HOUR_MS);
  const conversionFiles = await listRangeFiles(ctx.root, next, Math.max(...source.stale.map((s) => s.hour)) + HOUR_MS);
  if (conversionFiles.length === 0) return [];
  const found = await touchedBy(conn, { lateFiles, neighbourFiles, conversionFiles }, source.hour, ctx);
  const staleHours = new Set(source.stale.map((s) => s.hour));
  const hours = new Set(found.conversionHours.filter((h) => staleHours.has(h)));
  if (found.latestTouchpoint !== null && found.latestTouchpoint >= next - ruleWindowMs(ctx) && staleHours.has(next)) hours.add(next);
  return [...hours];
}

/**
 * One DuckDB read: the late touchpoints of `hour` (from `lateFiles`), the users they touch (their
 * own, and those of the clicks in their IP flood windows, from `neighbourFiles`), and the hours
 * of those users' conversions (from `conversionFiles`).
 */
async function touchedBy(
  conn: DuckDBConnection,
  files: { lateFiles: string[]; neighbourFiles: string[]; conversionFiles: string[] },
  hour: number,
  ctx: BatchContext,
): Promise<{ latestTouchpoint: number | null; conversionHours: number[] }> {
  const late = filesParam(files.lateFiles);
  const near = filesParam(files.neighbourFiles);
  const conv = filesParam(files.conversionFiles);
  const read = ['user_id', 'type', 'ts', 'kafka_partition', 'ip', 'ip_key'] as const;
  try {
    await withArchiveColumns(conn, files.lateFiles, (columns) =>
      conn.run(
        `CREATE OR REPLACE TEMP TABLE late_touchpoints AS
         SELECT user_id, type, ts, kafka_partition, coalesce(ip_key, ip) AS flood_ip
         FROM (SELECT ${columns} FROM ${readFiles('files')}) WHERE type IN ('impression', 'click') AND ts >= $from AND ts < $to`,
        { files: late.value, from: hour, to: hour + HOUR_MS },
        { files: late.type },
      ), [...read]);
    const latest = await conn.runAndReadAll('SELECT max(ts)::DOUBLE FROM late_touchpoints');
    const latestTouchpoint = (latest.getRows()[0]?.[0] as number | null) ?? null;
    if (latestTouchpoint === null) return { latestTouchpoint, conversionHours: [] };
    await withArchiveColumns(conn, files.neighbourFiles, (columns) =>
      conn.run(
        `CREATE OR REPLACE TEMP TABLE touched_users AS
         SELECT user_id FROM late_touchpoints
         UNION
         SELECT n.user_id FROM (SELECT ${columns} FROM ${readFiles('files')}) n
         JOIN late_touchpoints l ON l.type = 'click' AND l.flood_ip IS NOT NULL
           AND n.kafka_partition = l.kafka_partition AND coalesce(n.ip_key, n.ip) = l.flood_ip
           AND n.ts >= l.ts AND n.ts <= l.ts + $flood
         WHERE n.type = 'click'`,
        { files: near.value, flood: ctx.settings.floodWindowMs },
        { files: near.type },
      ), [...read]);
    const hours = await conn.runAndReadAll(
      `SELECT DISTINCT (ts - ts % ${HOUR_MS})::DOUBLE FROM ${readFiles('files')}
       WHERE type = 'conversion' AND user_id IN (SELECT user_id FROM touched_users)`,
      { files: conv.value },
      { files: conv.type },
    );
    return { latestTouchpoint, conversionHours: (hours.getRows() as [number][]).map(([h]) => h) };
  } catch (cause) {
    throw new ArchiveScanError(`reading late files of ${new Date(hour).toISOString()} failed: ${(cause as Error).message}`, { cause });
  } finally {
    await conn.run('DROP TABLE IF EXISTS late_touchpoints');
    await conn.run('DROP TABLE IF EXISTS touched_users');
  }
}
