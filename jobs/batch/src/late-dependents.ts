import { DOUBLE, LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { eventFolders, readableFiles, readableRange, withArchiveColumns, type ArchiveStorage } from '@sigflow/archive';
import { markDirtyCommand, readBatchHourEntries } from '@sigflow/store/batch';
import type { BatchContext } from './batch-context.js';
import { filesParam, readFiles, readRelisting } from './archive-scan.js';
import { ArchiveScanError } from './errors.js';
import { hourStart, HOUR_MS, hoursOf } from './hour-range.js';

/**
 * A file counts as landed after a computation when it landed (its mtime on a folder, its put
 * on S3) later than this before the computation's `asOf`: the archiver publishes a file after
 * writing it, and the clocks may step; erring this way only recomputes an hour more. (Rewrites of
 * landed content, compaction and erasure, keep the landing time of what they rewrite.)
 */
export const landingClockMarginMs = 30_000;

/** A dirty hour of a recompute's range, and the later hours it may have made stale. */
interface LateSource {
  readonly hour: number;
  /** When the hour last received a file (the dirty score). */
  readonly landedAt: number;
  /** Candidates: computed hours after it, outside the range, whose computation started before `landedAt`. */
  readonly candidates: readonly { hour: number; asOf: number }[];
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
 * Only hours computed before the hour's last file landed (their `asOf`) can be stale; an hour
 * computed later read it. Such an hour is stale when a file that landed (mtime) after its own
 * `asOf` holds a touchpoint that reaches it as above. Returns the hours marked, sorted.
 */
export async function markLateDependents(ctx: BatchContext, conn: DuckDBConnection, from: number, to: number): Promise<number[]> {
  const sources = await lateSources(ctx, from, to);
  const marked = new Set<number>();
  for (const source of sources) {
    // Listed and read again when a compaction replaced a listed file before it was read.
    const stale = await readRelisting(() => staleHoursOf(ctx, conn, source));
    const mark = markDirtyCommand(ctx.keys, stale, source.landedAt);
    if (mark) await ctx.redis.call(...(mark as [string, ...(string | number)[]]));
    for (const hour of stale) marked.add(hour);
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
    const reach = hourStart(hour + HOUR_MS - 1 + Math.max(ctx.settings.attributionLookbackMs, ruleWindowMs(ctx))) + HOUR_MS;
    const later = hoursOf(hour + HOUR_MS, reach).filter((h) => h < from || h >= to);
    if (later.length === 0) continue;
    const entries = await readBatchHourEntries(ctx.redis, ctx.keys, later);
    const candidates = later.flatMap((h) => {
      const entry = entries.get(h);
      return entry !== undefined && entry.asOf < landedAt ? [{ hour: h, asOf: entry.asOf }] : [];
    });
    if (candidates.length > 0) sources.push({ hour, landedAt, candidates });
  }
  return sources;
}

function ruleWindowMs(ctx: BatchContext): number {
  return Math.max(ctx.settings.joinWindowMs, ctx.settings.floodWindowMs);
}

/** An archive file (its local path) and when it landed (ms). */
interface LandedFile {
  readonly file: string;
  readonly landedAt: number;
}

/** The files of an hour that landed after `since` (less the clock margin). */
async function filesLandedAfter(archive: ArchiveStorage, hour: number, since: number): Promise<LandedFile[]> {
  const files = await readableFiles(archive, eventFolders(hour, hour + HOUR_MS));
  return files.filter((f) => f.landedAtMs > since - landingClockMarginMs).map((f) => ({ file: f.path, landedAt: f.landedAtMs }));
}

/**
 * The stale hours of one late source: a candidate is stale when a file that landed after its
 * computation (less the margin) holds a touchpoint within the rule windows before its start (the
 * next hour), or a touchpoint of a user it holds a conversion of (directly, or through an IP
 * flood window).
 */
async function staleHoursOf(ctx: BatchContext, conn: DuckDBConnection, source: LateSource): Promise<number[]> {
  const lateFiles = await filesLandedAfter(ctx.archive, source.hour, Math.min(...source.candidates.map((s) => s.asOf)));
  if (lateFiles.length === 0) return [];
  const next = source.hour + HOUR_MS;
  const neighbourFiles = await readableRange(ctx.archive, source.hour, next + HOUR_MS);
  const conversionFiles = await readableRange(ctx.archive, next, Math.max(...source.candidates.map((s) => s.hour)) + HOUR_MS);
  if (conversionFiles.length === 0) return [];
  const landedBefore = await touchedBy(conn, { lateFiles, neighbourFiles, conversionFiles }, source.hour, ctx);
  return source.candidates.filter((s) => (landedBefore.get(s.hour) ?? -Infinity) > s.asOf - landingClockMarginMs).map((s) => s.hour);
}

/**
 * One DuckDB read: the late touchpoints of `hour` with when their file landed, the users they
 * touch (their own, and those of the clicks in their IP flood windows, from `neighbourFiles`),
 * and the hours of those users' conversions (from `conversionFiles`). Returns, per hour after
 * `hour` that such a touchpoint can change, the latest landing among them.
 */
async function touchedBy(
  conn: DuckDBConnection,
  files: { lateFiles: LandedFile[]; neighbourFiles: string[]; conversionFiles: string[] },
  hour: number,
  ctx: BatchContext,
): Promise<Map<number, number>> {
  const lateNames = files.lateFiles.map((f) => f.file);
  const late = filesParam(lateNames);
  const near = filesParam(files.neighbourFiles);
  const conv = filesParam(files.conversionFiles);
  const read = ['user_id', 'type', 'ts', 'ip', 'ip_key'] as const;
  const next = hour + HOUR_MS;
  try {
    await conn.run(
      'CREATE OR REPLACE TEMP TABLE late_files AS SELECT unnest($names) AS filename, unnest($landed) AS landed',
      { names: listValue(lateNames), landed: listValue(files.lateFiles.map((f) => f.landedAt)) },
      { names: LIST(VARCHAR), landed: LIST(DOUBLE) },
    );
    await withArchiveColumns(conn, lateNames, (columns) =>
      conn.run(
        `CREATE OR REPLACE TEMP TABLE late_touchpoints AS
         SELECT user_id, type, ts, coalesce(ip_key, ip) AS flood_ip, landed
         FROM (SELECT ${columns}, filename FROM read_parquet($files, union_by_name = true, hive_partitioning = false, filename = true))
         JOIN late_files USING (filename)
         WHERE type IN ('impression', 'click') AND ts >= $from AND ts < $to`,
        { files: late.value, from: hour, to: next },
        { files: late.type },
      ), [...read]);
    await withArchiveColumns(conn, files.neighbourFiles, (columns) =>
      conn.run(
        `CREATE OR REPLACE TEMP TABLE touched_users AS
         SELECT user_id, max(landed) AS landed FROM (
           SELECT user_id, landed FROM late_touchpoints
           UNION ALL
           SELECT n.user_id, l.landed FROM (SELECT ${columns} FROM ${readFiles('files')}) n
           JOIN late_touchpoints l ON l.type = 'click' AND l.flood_ip IS NOT NULL
             AND coalesce(n.ip_key, n.ip) = l.flood_ip
             AND n.ts >= l.ts AND n.ts <= l.ts + $flood
           WHERE n.type = 'click')
         GROUP BY user_id`,
        { files: near.value, flood: ctx.settings.floodWindowMs },
        { files: near.type },
      ), [...read]);
    const byConversion = await conn.runAndReadAll(
      `SELECT (c.ts - c.ts % ${HOUR_MS})::DOUBLE AS h, max(t.landed)::DOUBLE FROM ${readFiles('files')} c
       JOIN touched_users t USING (user_id) WHERE c.type = 'conversion' GROUP BY h`,
      { files: conv.value },
      { files: conv.type },
    );
    const landed = new Map((byConversion.getRows() as [number, number][]).map(([h, at]) => [h, at]));
    const nearEnd = await conn.runAndReadAll('SELECT max(landed)::DOUBLE FROM late_touchpoints WHERE ts >= $from', { from: next - ruleWindowMs(ctx) });
    const nextLanded = nearEnd.getRows()[0]?.[0] as number | null;
    if (nextLanded !== null && nextLanded !== undefined) landed.set(next, Math.max(landed.get(next) ?? -Infinity, nextLanded));
    return landed;
  } catch (cause) {
    throw new ArchiveScanError(`reading late files of ${new Date(hour).toISOString()} failed: ${(cause as Error).message}`, { cause });
  } finally {
    for (const t of ['late_files', 'late_touchpoints', 'touched_users']) await conn.run(`DROP TABLE IF EXISTS ${t}`);
  }
}
