import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlRefusal } from './sql-refusal.js';

const onlySelect = [
  'only one SELECT statement may run (SELECT, WITH ... SELECT, FROM-first, VALUES, DESCRIBE, SUMMARIZE);',
  'COPY, ATTACH, INSTALL, LOAD, SET, RESET, PRAGMA, CALL, EXPLAIN, CREATE, INSERT, UPDATE, DELETE and the like are refused',
].join(' ');

interface SerializedSql {
  readonly error?: boolean;
  readonly error_type?: string;
  readonly error_message?: string;
  readonly statements?: readonly unknown[];
}

/** Every `table_name` of a base table reference in a parsed statement (CTE names included). */
function tableNames(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) tableNames(n, into);
  else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o['type'] === 'BASE_TABLE' && typeof o['table_name'] === 'string') into.add(o['table_name'].toLowerCase());
    for (const v of Object.values(o)) tableNames(v, into);
  }
  return into;
}

/** DuckDB's serialized parse of `sql` (`json_serialize_sql`: SELECT statements only). */
async function serialize(conn: DuckDBConnection, sql: string): Promise<SerializedSql> {
  const reply = await conn.runAndReadAll('SELECT json_serialize_sql($sql::VARCHAR)', { sql });
  return JSON.parse(String(reply.getRows()[0]?.[0])) as SerializedSql;
}

/**
 * The error type `json_serialize_sql` gives any statement that is not a SELECT (COPY, ATTACH,
 * SET, ...), asked of DuckDB once, with a SET, rather than its wording written here. Here it is
 * the analyst's "only one SELECT" refusal.
 */
let notSelectErrorType: Promise<string | undefined> | undefined;
function notSelectError(conn: DuckDBConnection): Promise<string | undefined> {
  // A failed ask (the connection closing) is not kept: the next check asks again.
  notSelectErrorType ??= serialize(conn, 'SET threads = 1').then(
    (parsed) => parsed.error_type,
    (err: unknown) => {
      notSelectErrorType = undefined;
      throw err;
    },
  );
  return notSelectErrorType;
}

/**
 * Parses an analyst's text without binding or running it (DuckDB's `json_serialize_sql`, which
 * serializes SELECT statements only) and refuses anything but exactly one SELECT statement.
 * Returns the names of the tables it reads.
 */
export async function checkStatement(conn: DuckDBConnection, sql: string): Promise<string[]> {
  const parsed = await serialize(conn, sql);
  if (parsed.error) {
    if (parsed.error_type === (await notSelectError(conn))) throw new SqlRefusal(400, onlySelect, 'sql');
    throw new SqlRefusal(400, `${parsed.error_type ?? 'parser'} error: ${parsed.error_message ?? 'the query does not parse'}`, 'sql');
  }
  const count = parsed.statements?.length ?? 0;
  if (count === 0) throw new SqlRefusal(400, 'the query holds no statement', 'sql');
  if (count > 1) throw new SqlRefusal(400, `one statement per query; this holds ${count}`, 'sql');
  return [...tableNames(parsed.statements, new Set())].sort();
}

/** Prepares the checked statement and refuses it unless DuckDB plans it as a SELECT without parameters. */
export async function prepareSelect(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  const prepared = await conn.prepare(sql);
  if (prepared.statementType !== StatementType.SELECT) {
    prepared.destroySync();
    throw new SqlRefusal(400, onlySelect, 'sql');
  }
  if (prepared.parameterCount > 0) {
    prepared.destroySync();
    throw new SqlRefusal(400, 'parameters ($1, ?) are not supported: write the values into the query', 'sql');
  }
  return prepared;
}
