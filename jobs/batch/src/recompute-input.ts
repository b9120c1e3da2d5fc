import type { DuckDBConnection } from '@duckdb/node-api';
import { readableRange, type ArchiveColumn, type ArchiveStorage } from '@sigflow/archive';
import type { RuleSettings } from '@sigflow/core';
import { countRows, deleteLaterCopies, keptColumns, loadArchiveRows, markRepeatedIds, readFiles, repeatedIds, runOverFileBatches } from './archive-scan.js';
import { ArchiveScanError } from './errors.js';
import { loadConverterVerdicts, verdictColumnNames } from './touchpoint-verdicts.js';
import { hourStart, HOUR_MS } from './hour-range.js';

/**
 * What a recompute of [from, to) reads, and why (DESIGN.md: the same rules as the speed layer,
 * which has all history in its keyed state). The views of the range depend on events before
 * `from` only through:
 * - joins and floods of clicks in the range: the impressions of [from - joinWindow, from) and
 *   the clicks of [from - floodWindow, from), of every user (the "near" context);
 * - attribution of conversions in the range: the path is the converting user's valid
 *   touchpoints of [t - lookback, t]; their validity needs their own join and flood context. So
 *   for users with a conversion in the range only: their impressions and clicks back to
 *   `from - lookback - max(joinWindow, floodWindow)` (the "far" context), plus, for the IP half of
 *   the flood rule, the other clicks of the same IP, in every partition, in the flood window
 *   before each of those clicks.
 * Sessions, engagement and conversions before `from` do not reach any view, so they are not read.
 * A day's recompute therefore reads the day, half an hour before it, and the week before it
 * only for converting users' touchpoints — not 7 days of everything.
 *
 * Copies of one event share its ts (a copy is the same event delivered again), so the dedupe
 * over this window sees every copy of every event it keeps.
 */
export interface RecomputeWindow {
  readonly from: number;
  readonly to: number;
  /** Start of the near context (all users' touchpoints). */
  readonly nearFrom: number;
  /** Start of the far context (converting users' touchpoints). */
  readonly contextFrom: number;
}

export function recomputeWindow(from: number, to: number, settings: RuleSettings): RecomputeWindow {
  const ruleWindow = Math.max(settings.joinWindowMs, settings.floodWindowMs);
  return { from, to, nearFrom: from - ruleWindow, contextFrom: from - settings.attributionLookbackMs - ruleWindow };
}

/** What loading the input found. */
export interface RecomputeInput {
  /** Archive files read (range and context). */
  readonly files: number;
  /** Copies read from the range, and context rows read. */
  readonly rangeCopies: number;
  readonly contextRows: number;
  /** Events fed to the rules (first copies, range + context; verdicts replayed included). */
  readonly fedEvents: number;
  /** Later copies in the range per hour and campaign ('*' for events without a campaign). */
  readonly duplicates: Map<number, Map<string, number>>;
  /** Events (first copies) in the range per hour, every type. */
  readonly eventsPerHour: Map<number, number>;
  /** Whether the converting users' context came from touchpoint verdicts (else from the archive). */
  readonly fromVerdicts: boolean;
}

/**
 * The event types whose outcomes reach a batch view: touchpoints (window metrics, paths, joins,
 * floods), conversions (attribution), element clicks (heatmaps) and the page events of the page
 * activity view (page views, scrolls, form interactions, mouse moves) and custom events (their
 * counts per name). Link follows and identity records only feed
 * sessions, engagement and signals, which are speed-layer outputs; in the keyed state they only
 * move `maxTs`, which decides when old entries are pruned, never which entries a rule sees inside
 * its window. So the recompute runs the rules over these types only
 * (`config.batch.viewEventsOnly`, on by default), and a test proves the views equal those of
 * running every event.
 */
export const viewEventTypes = ['impression', 'click', 'conversion', 'element_click', 'page_view', 'scroll', 'form_interaction', 'mouse_move', 'track'] as const;
export const viewEventFilter = `type IN (${viewEventTypes.map((t) => `'${t}'`).join(', ')})`;

/**
 * The columns of a context touchpoint the rules read (the others are NULL in `ctx_copies`): a
 * context event's outcome reaches no view (it is before `from`), only its effect on its user's
 * state does, and an impression or click changes that through its validity (bot rule: the user
 * agent; the IP flood rule: ip and ip_key; the join and the path: campaign, ad and channel) and
 * its key; the Kafka position and received_at pick the first copy. Not reading the rest (pages,
 * attributes, costs...) cut the context scans by a fifth.
 */
const contextColumns: ReadonlySet<ArchiveColumn> = new Set<ArchiveColumn>([
  'event_id',
  'type',
  'user_id',
  'ts',
  'received_at',
  'kafka_partition',
  'kafka_offset',
  'ip',
  'ip_key',
  'user_agent',
  'campaign_id',
  'ad_id',
  'channel',
]);

/**
 * Builds the pass's input: `fed` (a view over temp tables `range_copies` and `ctx_copies` once
 * their later copies are deleted), the first copies of the range's events and of the context
 * above, whose clicks the IP flood pass counts; and `rules_input`, what the rules run over, in
 * `fed`'s columns plus `known_valid` (see {@link knownVerdictColumn}).
 *
 * With `verdictFiles` (the current touchpoint verdicts of every hour of the context, see
 * `currentVerdictFiles`), the converting users' lookback comes from them: `ctx_copies` then holds
 * the near context only (every user's touchpoints of the rule window before `from`: the join and
 * flood context of the range), and `rules_input` takes the converting users' touchpoints of
 * [contextFrom, from) from the verdicts, with their verdict, in place of their raw context rows.
 */
export async function loadRecomputeInput(
  conn: DuckDBConnection,
  archive: ArchiveStorage,
  window: RecomputeWindow,
  settings: RuleSettings,
  verdictFiles: readonly string[] | null = null,
): Promise<RecomputeInput> {
  const rangeFiles = await readableRange(archive, window.from, window.to);
  await loadArchiveRows(conn, 'range_copies', rangeFiles, 'ts >= $from AND ts < $to', { from: window.from, to: window.to });
  await conn.run('CREATE OR REPLACE TEMP TABLE converters AS SELECT DISTINCT user_id FROM range_copies WHERE type = $t', { t: 'conversion' });
  const contextFiles = verdictFiles
    ? await loadNearContext(conn, archive, window, settings, verdictFiles)
    : await loadArchiveContext(conn, archive, window, settings);
  // Duplicates = distinct Kafka messages beyond the first per event_id (exact replays of one
  // message by the archiver are not duplicates of the producer). Counted before the later copies
  // go, over the event_ids seen more than once in the range and its context (an id with one
  // copy in the range counts 1 - 1 in its group, so the context's ids change no count).
  await markRepeatedIds(conn, ['range_copies', 'ctx_copies']);
  const dup = await conn.runAndReadAll(
    `SELECT hour, campaign, (count(*) - count(DISTINCT event_id))::BIGINT AS duplicates
     FROM (SELECT DISTINCT event_id, kafka_partition, kafka_offset,
                  (ts - ts % ${HOUR_MS})::BIGINT AS hour,
                  CASE WHEN type IN ('impression', 'click') THEN campaign_id ELSE '*' END AS campaign
           FROM range_copies SEMI JOIN ${repeatedIds} USING (event_id))
     GROUP BY hour, campaign HAVING count(*) > count(DISTINCT event_id)`,
  );
  const rangeCopies = await countRows(conn, 'range_copies');
  const contextRows = (await countRows(conn, 'ctx_copies')) + (verdictFiles ? await countRows(conn, 'ctx_verdicts') : 0);
  // `fed`: the first copies of both, in place (no second copy of the rows: the memory peak).
  await deleteLaterCopies(conn, ['range_copies', 'ctx_copies']);
  await conn.run(`DROP TABLE IF EXISTS ${repeatedIds}`);
  await conn.run('CREATE OR REPLACE TEMP VIEW fed AS SELECT * FROM range_copies UNION ALL SELECT * FROM ctx_copies');
  await createRulesInput(conn, verdictFiles !== null);

  const perHour = await conn.runAndReadAll(
    `SELECT (ts - ts % ${HOUR_MS})::DOUBLE AS hour, count(*)::DOUBLE FROM fed WHERE ts >= $from AND ts < $to GROUP BY hour`,
    { from: window.from, to: window.to },
  );
  const eventsPerHour = new Map((perHour.getRows() as [number, number][]).map(([h, n]) => [h, n]));
  const duplicates = new Map<number, Map<string, number>>();
  for (const [hour, campaign, n] of dup.getRows()) {
    const h = Number(hour);
    const byCampaign = duplicates.get(h) ?? new Map<string, number>();
    byCampaign.set(String(campaign), Number(n));
    duplicates.set(h, byCampaign);
  }
  const counts = { rangeCopies, contextRows, fedEvents: await countRows(conn, 'rules_input') };
  return { files: rangeFiles.length + contextFiles, ...counts, duplicates, eventsPerHour, fromVerdicts: verdictFiles !== null };
}

/**
 * The context from the archive alone: `ctx_copies` gets every user's touchpoints of the near
 * context and the converting users' of the far one, plus the IP neighbours of their clicks.
 * Returns the number of archive files read.
 */
async function loadArchiveContext(conn: DuckDBConnection, archive: ArchiveStorage, window: RecomputeWindow, settings: RuleSettings): Promise<number> {
  const contextFiles = await readableRange(archive, hourStart(window.contextFrom - settings.floodWindowMs), window.from);
  await loadArchiveRows(
    conn,
    'ctx_copies',
    contextFiles,
    `ts >= $contextFrom AND ts < $from AND type IN ('impression', 'click')
     AND (ts >= $nearFrom OR user_id IN (SELECT user_id FROM converters))`,
    { contextFrom: window.contextFrom, from: window.from, nearFrom: window.nearFrom },
    contextColumns,
  );
  if (contextFiles.length === 0) return 0;
  // IP neighbours of the converting users' context clicks, in every partition (DESIGN.md: the
  // IP flood rule is not partition-local). On a 2-hour pass over 7 days of the bench's history
  // (1 DuckDB thread): 4.4 s, against 6.6 s for this read limited to the click's own partition.
  // In batches of files (`archiveFilesPerRead`: DuckDB holds each file's reader until the query
  // ends). The rows inserted are of non-converting users, which the join's side never reads.
  try {
    await runOverFileBatches(
      conn,
      contextFiles,
      { lo: window.contextFrom - settings.floodWindowMs, nearFrom: window.nearFrom, flood: settings.floodWindowMs },
      (columns) =>
        `INSERT INTO ctx_copies
         SELECT ${keptColumns(contextColumns, 'n')} FROM (SELECT ${columns} FROM ${readFiles('files')}
                          WHERE type = 'click' AND coalesce(ip_key, ip) IS NOT NULL AND ts >= $lo AND ts < $nearFrom
                            AND user_id NOT IN (SELECT user_id FROM converters)) n
         SEMI JOIN (SELECT coalesce(ip_key, ip) AS flood_ip, ts FROM ctx_copies
                    WHERE type = 'click' AND coalesce(ip_key, ip) IS NOT NULL AND user_id IN (SELECT user_id FROM converters)) k
           ON coalesce(n.ip_key, n.ip) = k.flood_ip AND n.ts >= k.ts - $flood AND n.ts <= k.ts`,
    );
  } catch (cause) {
    throw new ArchiveScanError(`reading IP flood context failed: ${(cause as Error).message}`, { cause });
  }
  return contextFiles.length;
}

/**
 * The context with touchpoint verdicts: `ctx_copies` gets every user's touchpoints of the near
 * context from the archive, `ctx_verdicts` the converting users' touchpoints of the whole
 * context with their verdicts. Returns the number of files read.
 */
async function loadNearContext(conn: DuckDBConnection, archive: ArchiveStorage, window: RecomputeWindow, settings: RuleSettings, verdictFiles: readonly string[]): Promise<number> {
  const nearFiles = await readableRange(archive, hourStart(window.nearFrom), window.from);
  await loadArchiveRows(
    conn,
    'ctx_copies',
    nearFiles,
    `ts >= $nearFrom AND ts < $from AND type IN ('impression', 'click')`,
    { from: window.from, nearFrom: window.nearFrom },
    contextColumns,
  );
  await loadConverterVerdicts(conn, verdictFiles, window.contextFrom, window.from, settings);
  return nearFiles.length + verdictFiles.length;
}

/** The columns of a touchpoint verdict, in the archive's names. */
const verdictColumns: ReadonlySet<ArchiveColumn> = new Set<ArchiveColumn>(verdictColumnNames);

/**
 * The column of `rules_input` that holds a known verdict: NULL for an event the rules judge,
 * true or false for a converting user's context touchpoint read from the touchpoint verdicts,
 * which the rules replay into its user's state as it is (`UserRuleFeed`).
 */
export const knownVerdictColumn = 'known_valid';

/**
 * `rules_input`: `fed` without the converting users' raw context rows when their context comes
 * from the verdicts (`ctx_verdicts`, in the archive's columns, the others NULL), else `fed`.
 */
async function createRulesInput(conn: DuckDBConnection, fromVerdicts: boolean): Promise<void> {
  if (!fromVerdicts) {
    await conn.run(`CREATE OR REPLACE TEMP VIEW rules_input AS SELECT *, NULL::BOOLEAN AS ${knownVerdictColumn} FROM fed`);
    return;
  }
  await conn.run(
    `CREATE OR REPLACE TEMP VIEW rules_input AS
     SELECT *, NULL::BOOLEAN AS ${knownVerdictColumn} FROM range_copies
     UNION ALL SELECT *, NULL::BOOLEAN FROM ctx_copies WHERE user_id NOT IN (SELECT user_id FROM converters)
     UNION ALL SELECT ${keptColumns(verdictColumns)}, valid FROM ctx_verdicts`,
  );
}

/** Drops the temp tables of a recompute pass. */
export async function dropRecomputeInput(conn: DuckDBConnection): Promise<void> {
  await conn.run('DROP VIEW IF EXISTS rules_input');
  await conn.run('DROP VIEW IF EXISTS fed');
  for (const t of ['ctx_copies', 'ctx_verdicts', 'converters', 'range_copies']) await conn.run(`DROP TABLE IF EXISTS ${t}`);
}
