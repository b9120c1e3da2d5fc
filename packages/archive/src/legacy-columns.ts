import { LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { archiveColumns, type ArchiveColumn } from './archive-columns.js';

const allNames: readonly ArchiveColumn[] = archiveColumns.map((c) => c.name);

/** DuckDB's binder error for a column none of the files has; the column when it is an archive column. */
function missingArchiveColumn(err: unknown): string | null {
  const name = /Referenced column "([^"]+)" not found/.exec(err instanceof Error ? err.message : '')?.[1];
  return name !== undefined && allNames.includes(name as ArchiveColumn) ? name : null;
}

/** `names` over `files`, those none of the files has as typed NULLs (one read of the footers). */
async function legacySelectList(conn: DuckDBConnection, files: readonly string[], names: readonly ArchiveColumn[]): Promise<string> {
  const described = await conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($files, union_by_name = true, hive_partitioning = false)', { files: listValue([...files]) }, { files: LIST(VARCHAR) });
  const present = new Set(described.getRows().map((row) => String(row[0])));
  return names
    .map((name) => {
      if (present.has(name)) return name;
      const type = archiveColumns.find((c) => c.name === name)?.type ?? 'VARCHAR';
      return `NULL::${type} AS ${name}`;
    })
    .join(', ');
}

/**
 * Runs `read` with the select list of archive columns `names` (default: all of them) over
 * `files`. Archives written before a column joined the format (`ip_key`, `cost`) lack it, and
 * DuckDB refuses to select a column none of the files has (`union_by_name` fills a column only
 * some files lack): then the missing columns are selected as typed NULLs and `read` runs again.
 * Reads of current archives pay nothing for it.
 */
export async function withArchiveColumns<T>(
  conn: DuckDBConnection,
  files: readonly string[],
  read: (columns: string) => Promise<T>,
  names: readonly ArchiveColumn[] = allNames,
): Promise<T> {
  try {
    return await read(names.join(', '));
  } catch (err) {
    if (missingArchiveColumn(err) === null) throw err;
  }
  return read(await legacySelectList(conn, files, names));
}
