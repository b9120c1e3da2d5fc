import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { archiveColumns, archiveColumnsDdl, eventsOfColumns, withArchiveColumns, type ArchiveColumn } from '@sigflow/archive';
import type { ReceivedEvent } from '@sigflow/events';
import { ArchiveScanError } from './errors.js';
import { readChunkColumns, type ColumnPlan } from './chunk-columns.js';

/** Times a read of archive files lists them again after one it listed was gone when DuckDB opened it. */
export const GONE_FILE_RELISTS = 3;

/**
 * Runs `read` (which lists archive files and reads them) again, up to {@link GONE_FILE_RELISTS}
 * times, when a file it listed was gone by the time DuckDB opened it: a compaction or an erasure
 * of its hour published in between (on a local archive the new file is renamed in, then the
 * replaced ones are deleted), and listing again finds the new file. A file gone before DuckDB was
 * given the list is the listing's own to list again (`readableFiles`, which pauses for the
 * replacement to end); its `ArchiveFileGoneError` is final here. `reset` runs before each new
 * attempt (dropping what the failed one left).
 */
export async function readRelisting<T>(read: () => Promise<T>, reset: () => Promise<void> = async () => undefined): Promise<T> {
  for (let relists = 0; ; relists++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ArchiveScanError && err.fileGone) || relists >= GONE_FILE_RELISTS) throw err;
      await reset();
    }
  }
}

/** `read_parquet` over a bound list of files (paths are bound, never spliced into SQL). */
export const readFiles = (param: string) => `read_parquet($${param}, union_by_name = true, hive_partitioning = false)`;

/** Binds a file list for {@link readFiles}. */
export function filesParam(files: readonly string[]) {
  return { value: listValue([...files]), type: LIST(VARCHAR) };
}

/** Creates an empty temp table with the archive schema. */
export async function createEmptyArchiveTable(conn: DuckDBConnection, table: string): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} (${archiveColumnsDdl()})`);
}

/**
 * Every archive column in the archive's order over a subquery of archive rows (named `source`
 * when given): those of `kept` as they are, the others as typed NULLs, so DuckDB reads only the
 * kept ones from the files.
 */
export function keptColumns(kept: ReadonlySet<ArchiveColumn>, source?: string): string {
  const from = source ? `${source}.` : '';
  return archiveColumns.map((c) => (kept.has(c.name) ? `${from}${c.name}` : `NULL::${c.type} AS ${c.name}`)).join(', ');
}

/**
 * Archive files one query reads at most ({@link loadArchiveRows}). DuckDB keeps every file's
 * reader (its footer, column readers and buffers) until the query ends, outside its
 * `memory_limit`: one read of an hour of the archiver's small files (19,900 of them, as the
 * soak's 6,600 events/s in 500 ms flushes leave an hour before compaction) held 1.3 GB in the
 * C allocator and 0.5 GB more in DuckDB's, and a recompute of two such hours peaked at 4.5-4.9 GB.
 * Read this many at a time, the same recompute peaked at 2.5-2.6 GB.
 */
export const archiveFilesPerRead = 1_000;

/** `files` in batches of at most `size`. */
function fileBatches(files: readonly string[], size = archiveFilesPerRead): string[][] {
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += size) batches.push(files.slice(i, i + size));
  return batches;
}

/**
 * Runs the statement `statementOf(columns, batchIndex)` gives once per batch of at most
 * `filesPerRead` of `files` ({@link archiveFilesPerRead}), with `params` and the batch bound as
 * `$files` ({@link readFiles}); `columns` selects the archive columns from files of any format.
 */
export async function runOverFileBatches(
  conn: DuckDBConnection,
  files: readonly string[],
  params: Record<string, number | string>,
  statementOf: (columns: string, batchIndex: number) => string,
  filesPerRead = archiveFilesPerRead,
): Promise<void> {
  for (const [batchIndex, batch] of fileBatches(files, filesPerRead).entries()) {
    const f = filesParam(batch);
    await withArchiveColumns(conn, batch, (columns) =>
      conn.run(statementOf(columns, batchIndex), { ...params, files: f.value }, { files: f.type }),
    );
  }
}

/**
 * Creates temp table `table` from the archive rows of `files` that match `where` (SQL over
 * the archive columns with named parameters), or an empty one when there are no files. With
 * `kept`, the other columns are NULL ({@link keptColumns}). The files are read
 * `filesPerRead` at a time ({@link archiveFilesPerRead}), each batch inserted into the table.
 */
export async function loadArchiveRows(
  conn: DuckDBConnection,
  table: string,
  files: readonly string[],
  where: string,
  params: Record<string, number | string>,
  kept?: ReadonlySet<ArchiveColumn>,
  filesPerRead = archiveFilesPerRead,
): Promise<void> {
  if (files.length === 0) return createEmptyArchiveTable(conn, table);
  try {
    await runOverFileBatches(conn, files, params, (columns, batchIndex) => {
      const into = batchIndex === 0 ? `CREATE OR REPLACE TEMP TABLE ${table} AS` : `INSERT INTO ${table}`;
      return kept
        ? `${into} SELECT ${keptColumns(kept)} FROM (SELECT ${columns} FROM ${readFiles('files')} WHERE ${where})`
        : `${into} SELECT ${columns} FROM ${readFiles('files')} WHERE ${where}`;
    }, filesPerRead);
  } catch (cause) {
    throw new ArchiveScanError(`reading ${files.length} archive files failed: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The batch rule of first copies, in SQL (mirrors core's `compareCopies`): per event_id the
 * copy with the earliest received_at, then the lowest Kafka offset (partition breaks exact ties,
 * i.e. replays of the same message, deterministically).
 */
export const firstCopyQualify =
  'QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at, kafka_offset, kafka_partition) = 1';

/** The temp table of {@link markRepeatedIds}: the event_ids with more than one copy. */
export const repeatedIds = 'repeated_ids';

/**
 * The event_ids seen more than once across `tables` (about 1 %), into the temp table
 * {@link repeatedIds}: the ones {@link deleteLaterCopies} sorts and a duplicates count reads,
 * so the ids of a pass are grouped once.
 */
export async function markRepeatedIds(conn: DuckDBConnection, tables: readonly string[]): Promise<void> {
  const copyIds = tables.map((t) => `SELECT event_id FROM ${t}`).join(' UNION ALL ');
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${repeatedIds} AS SELECT event_id FROM (${copyIds}) GROUP BY event_id HAVING count(*) > 1`);
}

/**
 * The same rule as {@link firstCopyQualify}, in place over the union of `tables` (each with the
 * archive columns), after {@link markRepeatedIds} over the same tables: deletes every copy that
 * is not the first of its event_id across them. Only the copy keys are sorted, and only for the
 * repeated event_ids, so the wide rows are never copied or sorted, as a `SELECT ... QUALIFY`
 * into a new table would.
 */
export async function deleteLaterCopies(conn: DuckDBConnection, tables: readonly string[]): Promise<void> {
  const copyKeys = tables
    .map((t) => `SELECT '${t}' AS src, rowid AS rid, event_id, received_at, kafka_offset, kafka_partition FROM ${t}`)
    .join(' UNION ALL ');
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE later_copies AS
     WITH copy_keys AS (${copyKeys})
     SELECT src, rid FROM copy_keys SEMI JOIN ${repeatedIds} USING (event_id)
     QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at, kafka_offset, kafka_partition) > 1`,
  );
  for (const t of tables) {
    await conn.run(`DELETE FROM ${t} WHERE rowid IN (SELECT rid FROM later_copies WHERE src = $t)`, { t });
  }
  await conn.run('DROP TABLE later_copies');
}

/** Row count of a table. */
export async function countRows(conn: DuckDBConnection, table: string): Promise<number> {
  const reader = await conn.runAndReadAll(`SELECT count(*) FROM ${table}`);
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

/** Columns the rules read, with BIGINT times as DOUBLE (exact below 2^53; cheaper to convert). */
export const eventSelect = archiveColumns
  .filter((c) => c.name !== 'kafka_offset')
  .map((c) => (c.type === 'BIGINT' ? `${c.name}::DOUBLE AS ${c.name}` : c.name))
  .join(', ');

/** One chunk of {@link streamEvents}: its events, and its columns' values in the selected order. */
export interface EventChunk {
  readonly events: ReceivedEvent[];
  readonly columns: readonly (readonly unknown[])[];
}

/**
 * Streams a query's rows as events, chunk by chunk, fetching the next chunk while the caller
 * processes the current one (DuckDB produces on its threads while JS runs the rules). With a
 * `plan` (one entry per selected column), the chunks are read straight from DuckDB's vectors
 * ({@link readChunkColumns}) instead of through node-api's per-value conversion.
 */
export async function* streamEvents(
  result: DuckDBResult,
  stats?: { waitMs: number; convertMs: number },
  plan?: readonly ColumnPlan[],
): AsyncGenerator<EventChunk> {
  const names = plan ? plan.map((p) => p.name) : result.columnNames();
  let next = result.fetchChunk();
  for (;;) {
    let t = performance.now();
    const chunk: DuckDBDataChunk | null = await next;
    if (stats) stats.waitMs += performance.now() - t;
    if (!chunk || chunk.rowCount === 0) return;
    next = result.fetchChunk();
    t = performance.now();
    const columns = plan ? readChunkColumns(chunk, plan) : chunk.getColumns();
    const events = eventsOfColumns(names, columns, chunk.rowCount);
    if (stats) stats.convertMs += performance.now() - t;
    yield { events, columns };
  }
}
