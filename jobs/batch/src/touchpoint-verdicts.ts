import { createHash } from 'node:crypto';
import { isbotVersion, outOfOrderSlackMs, type RuleSettings } from '@sigflow/core';
import { LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { archiveColumns, archiveFileFormat, eventFolders, hourFolderKey, readableFiles, type ArchiveStorage, type StagingArea } from '@sigflow/archive';
import { readBatchHourEntries } from '@sigflow/store/batch';
import type { BatchContext } from './batch-context.js';
import { VerdictReadError } from './errors.js';
import { filesParam, readFiles } from './archive-scan.js';
import { hourStart, HOUR_MS } from './hour-range.js';

/**
 * Touchpoint verdicts: what a recompute's rules decided about every impression and click (first
 * copies) of the hours it computed, valid or not, kept per hour and batch version under
 * `verdicts/` (see `verdictFolder`). A touchpoint's verdict needs only the context a recompute of
 * its own hour reads (DESIGN.md: joins and floods look back at most the rule window), so it is the
 * verdict the speed layer gives in order.
 *
 * What they save: a later recompute needs its converting users' touchpoints of the attribution
 * lookback, with their verdicts, to rebuild the users' paths. From the archive that means the
 * lookback's wide rows, those touchpoints' own join and flood context, and the other clicks of
 * their IPs, all run through the rules again. When every hour of that lookback is computed and
 * clean, the recompute reads these narrow rows instead and replays them into the users' state
 * with their recorded verdicts (core's `updateKeyedState`, as a snapshot restore replays signals).
 */
export const verdictColumnNames = ['event_id', 'type', 'user_id', 'ts', 'campaign_id', 'ad_id', 'channel'] as const;
const verdictColumnList = verdictColumnNames.join(', ');
/** Typed NULLs named as the verdict columns, of the archive's column types (an empty `ctx_verdicts`). */
const nullVerdictColumns = verdictColumnNames.map((c) => `NULL::${archiveColumns.find((a) => a.name === c)?.type} AS ${c}`).join(', ');

/**
 * What the verdicts were decided under: the rule settings and the bot list (`isbot`'s version).
 * Verdicts decided under others are not read (a change of either can change a verdict; the
 * archive is read and judged again instead).
 */
export function verdictRules(settings: RuleSettings): string {
  return createHash('sha256').update(JSON.stringify({ settings, isbotVersion })).digest('hex').slice(0, 12);
}

/** The name of an hour's verdict file of one batch version, decided under `rules` ({@link verdictRules}). */
export function verdictFileName(version: string, rules: string): string {
  return `${version}.${rules}.parquet`;
}

/** The folder of an hour's verdict files (`verdicts/dt=.../hr=...`). */
const verdictsOf = (hourStart: number) => hourFolderKey('verdicts', hourStart);

/**
 * Writes the touchpoint verdicts of `hours` (a pass's hours) as version `version`: the
 * impressions and clicks of temp table `range_copies` (first copies only, after the dedupe),
 * invalid when their event id is in `invalidIds`. Each file is staged and published whole.
 */
export async function writeTouchpointVerdicts(
  conn: DuckDBConnection,
  staging: StagingArea,
  archive: ArchiveStorage,
  hours: readonly number[],
  version: string,
  rules: string,
  invalidIds: readonly string[],
): Promise<void> {
  await conn.run('CREATE OR REPLACE TEMP TABLE invalid_touchpoints AS SELECT unnest($ids) AS event_id', { ids: listValue([...invalidIds]) }, { ids: LIST(VARCHAR) });
  try {
    for (const hour of hours) {
      const staged = staging.tempPath();
      await conn.run(
        `COPY (SELECT ${verdictColumnList}, event_id NOT IN (SELECT event_id FROM invalid_touchpoints) AS valid
               FROM range_copies WHERE type IN ('impression', 'click') AND ts >= $from AND ts < $to
               ORDER BY user_id, ts, event_id)
         TO $path (${archiveFileFormat})`,
        { from: hour, to: hour + HOUR_MS, path: staged },
      );
      await archive.publish({ staged, name: verdictFileName(version, rules) }, verdictsOf(hour), 'overwrite');
    }
  } finally {
    await conn.run('DROP TABLE IF EXISTS invalid_touchpoints');
  }
}

/** Removes an hour's verdict files but `keep`'s (null: all of them). */
export async function pruneHourVerdicts(archive: ArchiveStorage, hourStart: number, keep: string | null): Promise<void> {
  if (keep === null) {
    await archive.removeFolder(verdictsOf(hourStart));
    return;
  }
  await archive.remove((await archive.list(verdictsOf(hourStart))).filter((f) => !f.name.startsWith(`${keep}.`)));
}

/** Removes one version's verdict file of an hour (a computation that did not switch in). */
export async function dropVerdictVersion(archive: ArchiveStorage, hourStart: number, version: string, rules: string): Promise<void> {
  const name = verdictFileName(version, rules);
  await archive.remove((await archive.list(verdictsOf(hourStart))).filter((f) => f.name === name));
}

/**
 * The verdict files of the hours [from, to) when they can stand in for the archive: every one
 * of those hours that has archive files has a batch version, is not dirty (no file landed or
 * was rewritten since), and has that version's verdicts decided under the current rules
 * ({@link verdictRules}). Null otherwise, and then the caller reads the archive
 * (`config.batch.touchpointVerdicts` off gives null too).
 */
export async function currentVerdictFiles(ctx: BatchContext, from: number, to: number): Promise<string[] | null> {
  if (!ctx.config.batch.touchpointVerdicts) return null;
  // The hours' folders listed together (on S3 a day's hours in two listings, not two per hour).
  const range = eventFolders(hourStart(from), to);
  const hours = (await ctx.archive.listFolders(range)).flatMap((files, i) => (files.length > 0 ? [hourStart(from) + i * HOUR_MS] : []));
  if (hours.length === 0) return [];
  const entries = await readBatchHourEntries(ctx.redis, ctx.keys, hours);
  const dirty = await ctx.redis.zmscore(ctx.keys.dirtyHours(), ...hours.map(String));
  const rules = verdictRules(ctx.settings);
  const wanted: string[] = [];
  for (const [i, hour] of hours.entries()) {
    const entry = entries.get(hour);
    if (!entry || dirty[i] !== null) return null;
    wanted.push(`${verdictsOf(hour)}/${verdictFileName(entry.version, rules)}`);
  }
  const present = await readableFiles(ctx.archive, hours.map(verdictsOf));
  const byKey = new Map(present.map((f) => [`${f.folder}/${f.name}`, f.path]));
  const files = wanted.map((key) => byKey.get(key));
  return files.every((f): f is string => f !== undefined) ? files : null;
}

/**
 * Creates temp table `ctx_verdicts` from `files`: the touchpoints of the converting users (temp
 * table `converters`) with ts in [from, to), with their verdict (`valid`), that can still change
 * their state at `to`. An invalid touchpoint enters no path, join or last touch; an invalid click
 * only counts for its user's flood rule, which looks back the flood window (and core's slack)
 * from the user's newest event, at `to` or later. So invalid impressions, and invalid clicks
 * older than that, are not read (in the bench's week, 5.6 of 39.6 million touchpoints).
 */
export async function loadConverterVerdicts(conn: DuckDBConnection, files: readonly string[], from: number, to: number, settings: RuleSettings): Promise<void> {
  if (files.length === 0) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ctx_verdicts AS SELECT ${nullVerdictColumns}, NULL::BOOLEAN AS valid LIMIT 0`);
    return;
  }
  const f = filesParam(files);
  try {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ctx_verdicts AS SELECT ${verdictColumnList}, valid FROM ${readFiles('files')}
       WHERE ts >= $from AND ts < $to AND (valid OR (type = 'click' AND ts >= $clicksFrom)) AND user_id IN (SELECT user_id FROM converters)`,
      { files: f.value, from, to, clicksFrom: to - settings.floodWindowMs - outOfOrderSlackMs(settings) },
      { files: f.type },
    );
  } catch (cause) {
    throw new VerdictReadError(`reading ${files.length} touchpoint verdict files failed: ${(cause as Error).message}`, { cause });
  }
}
