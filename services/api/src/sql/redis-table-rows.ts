import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { sqlTable, type SqlColumnType } from './sql-catalogue.js';

/** A row of a Redis table as the API process sends it: the catalogue's columns, in order. */
export type RedisTableRow = readonly (string | number | boolean | null)[];

/** The rows of the Redis tables a query reads, by table name. */
export type RedisTableRows = Readonly<Record<string, readonly RedisTableRow[]>>;

function appendCell(appender: DuckDBAppender, type: SqlColumnType, value: string | number | boolean | null): void {
  if (value === null) return appender.appendNull();
  switch (type) {
    case 'VARCHAR':
      return appender.appendVarchar(String(value));
    case 'BIGINT':
      return appender.appendBigInt(BigInt(Math.round(Number(value))));
    case 'INTEGER':
      return appender.appendInteger(Math.round(Number(value)));
    case 'DOUBLE':
      return appender.appendDouble(Number(value));
    case 'BOOLEAN':
      return appender.appendBoolean(value === true);
  }
}

/** Replaces the rows of the Redis tables named in `rows` (worker side, before the query runs). */
export async function loadRedisTables(conn: DuckDBConnection, rows: RedisTableRows): Promise<void> {
  for (const [name, tableRows] of Object.entries(rows)) {
    const table = sqlTable(name);
    if (table?.source !== 'redis') throw new Error(`${name} is not a Redis table of the catalogue`);
    await conn.run(`DELETE FROM ${table.name}`);
    const appender = await conn.createAppender(table.name);
    try {
      for (const row of tableRows) {
        table.columns.forEach((c, i) => appendCell(appender, c.type, row[i] ?? null));
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }
}

/** Empties the Redis tables after a query: the next one (maybe another key's, another range) starts from its own rows. */
export async function emptyRedisTables(conn: DuckDBConnection, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const table = sqlTable(name);
    if (table?.source === 'redis') await conn.run(`DELETE FROM ${table.name}`);
  }
}
