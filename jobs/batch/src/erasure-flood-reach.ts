import type { DuckDBConnection } from '@duckdb/node-api';
import { readableRange, withArchiveColumns } from '@sigflow/archive';
import { readBatchHourEntries } from '@sigflow/store/batch';
import type { BatchContext } from './batch-context.js';
import { filesParam, readFiles } from './archive-scan.js';
import { ArchiveScanError } from './errors.js';
import { hourStart, HOUR_MS } from './hour-range.js';

const read = ['user_id', 'type', 'ts', 'ip', 'ip_key'] as const;

/**
 * The computed hours whose views a person's clicks reach through other people: DESIGN.md's IP
 * flood rule counts every click of an IP (any user, any partition) in the flood window before a
 * click, so erasing the person's clicks can make valid a later
 * click of someone else that was a flood. That click's hour, and the hours of its user's
 * conversions within the attribution lookback after it (their paths gain the touchpoint), are
 * then stale. Read from the archive before the person's rows go: `holding`, the files holding
 * them; the hours after are read from the archive as it is.
 */
export async function hoursReachedThroughFloods(ctx: BatchContext, conn: DuckDBConnection, userId: string, holding: readonly string[]): Promise<number[]> {
  if (holding.length === 0) return [];
  try {
    const span = await erasedClicks(conn, userId, holding);
    if (span === null) return [];
    const flood = ctx.settings.floodWindowMs;
    const neighbourFiles = await readableRange(ctx.archive, hourStart(span.first), hourStart(span.last + flood) + HOUR_MS);
    const neighbours = await floodNeighbours(conn, userId, neighbourFiles, flood);
    if (neighbours === null) return [];
    const lookback = ctx.settings.attributionLookbackMs;
    const conversionFiles = await readableRange(ctx.archive, hourStart(neighbours.first), hourStart(neighbours.last + lookback) + HOUR_MS);
    const hours = new Set([...neighbours.hours, ...(await conversionHours(conn, conversionFiles, lookback))]);
    return await computedOnly(ctx, [...hours]);
  } catch (cause) {
    if (cause instanceof ArchiveScanError) throw cause;
    throw new ArchiveScanError(`reading the flood neighbours of a deleted person's clicks failed: ${(cause as Error).message}`, { cause });
  } finally {
    for (const t of ['erased_clicks', 'flood_neighbours']) await conn.run(`DROP TABLE IF EXISTS ${t}`);
  }
}

/** The person's clicks with an IP, into temp table `erased_clicks`; their time span, null when none. */
async function erasedClicks(conn: DuckDBConnection, userId: string, holding: readonly string[]): Promise<{ first: number; last: number } | null> {
  const f = filesParam(holding);
  await withArchiveColumns(conn, holding, (columns) =>
    conn.run(
      `CREATE OR REPLACE TEMP TABLE erased_clicks AS
       SELECT coalesce(ip_key, ip) AS flood_ip, ts FROM (SELECT ${columns} FROM ${readFiles('files')})
       WHERE user_id = $user AND type = 'click' AND coalesce(ip_key, ip) IS NOT NULL`,
      { files: f.value, user: userId },
      { files: f.type },
    ), [...read]);
  return timeSpan(conn, 'erased_clicks');
}

/**
 * Other people's clicks from one of the person's IPs in the flood window after one of the
 * person's clicks (those whose verdict counted it), into temp table `flood_neighbours`: their
 * span and hours, null when none.
 */
async function floodNeighbours(conn: DuckDBConnection, userId: string, files: readonly string[], flood: number): Promise<{ first: number; last: number; hours: number[] } | null> {
  if (files.length === 0) return null;
  const f = filesParam(files);
  await withArchiveColumns(conn, files, (columns) =>
    conn.run(
      `CREATE OR REPLACE TEMP TABLE flood_neighbours AS
       SELECT DISTINCT n.user_id, n.ts FROM (SELECT ${columns} FROM ${readFiles('files')}) n
       JOIN erased_clicks k ON coalesce(n.ip_key, n.ip) = k.flood_ip AND n.ts >= k.ts AND n.ts <= k.ts + $flood
       WHERE n.type = 'click' AND n.user_id <> $user`,
      { files: f.value, user: userId, flood },
      { files: f.type },
    ), [...read]);
  const span = await timeSpan(conn, 'flood_neighbours');
  if (span === null) return null;
  const hours = await conn.runAndReadAll(`SELECT DISTINCT (ts - ts % ${HOUR_MS})::DOUBLE FROM flood_neighbours`);
  return { ...span, hours: (hours.getRows() as [number][]).map(([h]) => h) };
}

/** The hours of the flood neighbours' conversions within the lookback after one of their clicks. */
async function conversionHours(conn: DuckDBConnection, files: readonly string[], lookback: number): Promise<number[]> {
  if (files.length === 0) return [];
  const f = filesParam(files);
  const found = await withArchiveColumns(conn, files, (columns) =>
    conn.runAndReadAll(
      `SELECT DISTINCT (c.ts - c.ts % ${HOUR_MS})::DOUBLE FROM (SELECT ${columns} FROM ${readFiles('files')}) c
       JOIN flood_neighbours n USING (user_id)
       WHERE c.type = 'conversion' AND c.ts >= n.ts AND c.ts <= n.ts + $lookback`,
      { files: f.value, lookback },
      { files: f.type },
    ), ['user_id', 'type', 'ts']);
  return (found.getRows() as [number][]).map(([h]) => h);
}

/** Earliest and latest `ts` of a temp table, null when it is empty. */
async function timeSpan(conn: DuckDBConnection, table: string): Promise<{ first: number; last: number } | null> {
  const row = (await conn.runAndReadAll(`SELECT min(ts)::DOUBLE, max(ts)::DOUBLE FROM ${table}`)).getRows()[0] as [number | null, number | null];
  return row[0] === null || row[1] === null ? null : { first: row[0], last: row[1] };
}

/** The hours of `hours` that have a computed batch view (the others are computed from the archive as it will be). */
async function computedOnly(ctx: BatchContext, hours: number[]): Promise<number[]> {
  const entries = await readBatchHourEntries(ctx.redis, ctx.keys, hours);
  return hours.filter((h) => entries.has(h)).sort((a, b) => a - b);
}
