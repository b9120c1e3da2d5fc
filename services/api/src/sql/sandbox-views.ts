import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlTables, type SqlTable } from './sql-catalogue.js';

/**
 * How the catalogue's tables are defined inside a sandbox (`sql-catalogue.ts` says what they
 * hold). Every statement here is text of the code: the archive's paths go in through DuckDB
 * variables (`getvariable`), set with bound parameters before the sandbox is locked, so no
 * path or request text is ever spliced into SQL.
 *
 * A table over Parquet files is a view that unions, by name, a typed empty row set with the
 * files: its columns and their order stay those of the catalogue whatever the files hold
 * (files older than a column lack it: NULL), and a filter on `hour_start` (derived from the
 * `dt=`/`hr=` folders) leaves the other hours' files unread. While no file exists yet the view
 * is the empty row set alone (a glob that matches nothing is an error in DuckDB).
 */

/** The variable holding a glob, and the folder it reads below the archive root. */
interface FileSource {
  readonly variable: string;
  readonly folder: string;
}

const fileSources: Readonly<Record<string, FileSource>> = {
  events: { variable: 'sigflow_events', folder: 'events' },
  verdicts: { variable: 'sigflow_verdicts', folder: 'verdicts' },
  ...Object.fromEntries(sqlTables.filter((t) => t.source === 'views').map((t) => [t.name, { variable: `sigflow_${t.name}`, folder: path.join('views', t.name.slice('batch_'.length)) }])),
};

/** The folders the sandbox may read below the archive root (DuckDB's `allowed_directories`). */
export function readableFolders(root: string): string[] {
  return ['events', 'views', 'verdicts'].map((folder) => `${path.join(root, folder)}${path.sep}`);
}

/** The DuckDB variables of the globs (bound when the sandbox opens). */
export function globVariables(root: string): Record<string, string> {
  return Object.fromEntries(Object.values(fileSources).map((s) => [s.variable, path.join(root, s.folder, '*', '*', '*.parquet')]));
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `NULL::TYPE AS "name", ...` of a table's columns: its typed empty row set. */
function typedNulls(table: SqlTable): string {
  return table.columns.map((c) => `NULL::${c.type} AS ${quoted(c.name)}`).join(', ');
}

const hourOfFolders = '(epoch_ms(dt::TIMESTAMP) + hr * 3600000)::BIGINT AS hour_start';
const hiveOptions = "union_by_name = true, hive_partitioning = true, hive_types = {'dt': DATE, 'hr': INTEGER}";

/** A view over a file source's Parquet files (or the empty row set while there are none). */
function fileView(table: SqlTable, source: FileSource, hasFiles: boolean): string {
  const typedEmptyColumns = typedNulls(table);
  if (!hasFiles) return `CREATE OR REPLACE VIEW ${table.name} AS SELECT ${typedEmptyColumns} LIMIT 0`;
  return `CREATE OR REPLACE VIEW ${table.name} AS (SELECT ${typedEmptyColumns} LIMIT 0) UNION ALL BY NAME
          (SELECT * EXCLUDE (dt, hr), ${hourOfFolders} FROM read_parquet(getvariable('${source.variable}'), ${hiveOptions}))`;
}

/** The touchpoint verdict files (`verdicts/dt=/hr=/<version>.<rules>.parquet`): the first copies' verdicts with their version. */
function verdictRows(hasFiles: boolean): string {
  const typedEmptyColumns = 'NULL::VARCHAR AS event_id, NULL::BIGINT AS hour_start, NULL::BOOLEAN AS valid, NULL::VARCHAR AS reason, NULL::VARCHAR AS file_version';
  if (!hasFiles) return `(SELECT ${typedEmptyColumns} LIMIT 0)`;
  return `(SELECT event_id, hour_start, valid, reason, file_version FROM ((SELECT ${typedEmptyColumns} LIMIT 0) UNION ALL BY NAME
           (SELECT * EXCLUDE (dt, hr, filename), ${hourOfFolders}, split_part(parse_filename(filename), '.', 1) AS file_version
            FROM read_parquet(getvariable('sigflow_verdicts'), filename = true, ${hiveOptions}))))`;
}

/**
 * event_verdicts: each archived copy, a duplicate unless it is the first of its event id in its
 * hour (the batch layer's order), with the verdict of the hour's serving version (batch_hours).
 */
function verdictView(hasVerdictFiles: boolean): string {
  return `CREATE OR REPLACE VIEW event_verdicts AS
    WITH copies AS (
      SELECT event_id, type, user_id, ts, hour_start, campaign_id, ad_id, channel, kafka_partition, kafka_offset,
             row_number() OVER (PARTITION BY hour_start, event_id ORDER BY received_at, kafka_offset, kafka_partition) > 1 AS duplicate
      FROM events),
    serving AS (
      SELECT v.event_id, v.hour_start, v.valid, v.reason FROM ${verdictRows(hasVerdictFiles)} v
      JOIN batch_hours b ON b.hour_start = v.hour_start AND b.version = v.file_version)
    SELECT c.event_id, c.type, c.user_id, c.ts, c.hour_start, c.campaign_id, c.ad_id, c.channel, c.kafka_partition, c.kafka_offset, c.duplicate,
           s.valid, s.reason, b.version AS batch_version
    FROM copies c
    LEFT JOIN serving s ON s.hour_start = c.hour_start AND s.event_id = c.event_id AND NOT c.duplicate
    LEFT JOIN batch_hours b ON b.hour_start = c.hour_start`;
}

/** Whether a `dt=*` / `hr=*` folder tree holds a Parquet file (stops at the first). */
function hasParquetFiles(folder: string): boolean {
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const dt of list(folder)) for (const hr of list(path.join(folder, dt))) if (list(path.join(folder, dt, hr)).some((f) => f.endsWith('.parquet'))) return true;
  return false;
}

/**
 * The sandbox's views, kept matching the archive: {@link refresh} (before each query) defines
 * again those whose files appeared or went since.
 */
export class SandboxViews {
  private readonly present = new Map<string, boolean>();

  constructor(private readonly root: string) {}

  /** The Redis tables, empty: filled per query with what the API process read. */
  async createRedisTables(conn: DuckDBConnection): Promise<void> {
    for (const table of sqlTables.filter((t) => t.source === 'redis')) {
      await conn.run(`CREATE TABLE ${table.name} (${table.columns.map((c) => `${quoted(c.name)} ${c.type}`).join(', ')})`);
    }
  }

  /** (Re)defines the views whose files appeared or went since the last call. */
  async refresh(conn: DuckDBConnection): Promise<void> {
    const changed = (name: string) => {
      const has = hasParquetFiles(path.join(this.root, (fileSources[name] as FileSource).folder));
      const before = this.present.get(name);
      this.present.set(name, has);
      return before !== has;
    };
    for (const table of sqlTables.filter((t) => t.source === 'views' || t.name === 'events')) {
      if (changed(table.name)) await conn.run(fileView(table, fileSources[table.name] as FileSource, this.present.get(table.name) === true));
    }
    // Views are bound when queried: event_verdicts reads whatever `events` is by then.
    if (changed('verdicts')) await conn.run(verdictView(this.present.get('verdicts') === true));
  }
}
