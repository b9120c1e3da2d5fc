import type { DuckDBConnection } from '@duckdb/node-api';
import { archiveColumns } from '@sigflow/archive';
import type { ColumnPlan } from './chunk-columns.js';

/**
 * Archive columns with few distinct values (event types, user agents, campaigns, pages...): DuckDB
 * codes them against a dictionary per recompute pass (an ENUM), so JS gets each value as one
 * shared string instead of decoding it on every row (and Map lookups on it reuse its hash).
 * event_id, user_id and attrs are decoded per row.
 */
const codedColumns: ReadonlySet<string> = new Set([
  'type',
  'ip',
  'user_agent',
  'page_id',
  'placement',
  'campaign_id',
  'ad_id',
  'channel',
  'element_id',
  'currency',
  'form_id',
  'action',
  'href',
  'ip_key',
  'name',
]);

/** The event columns the rules read (the Kafka position is not part of an event). */
const eventColumns = archiveColumns.filter((c) => c.name !== 'kafka_partition' && c.name !== 'kafka_offset');

/**
 * Columns the batch layer's rules do not read when they run for views alone (core's
 * `viewsOnly`), left out of the sort and the hand-over: those core reads only to build signals
 * (`received_at` for nothing at all), and the IP (`ip`, `ip_key`), whose flood verdict
 * `floodedClicksOf` computes beforehand and core then takes as given (`ProcessContext.ipFlood`).
 * The IP was the one coded column with many values (about 60,000 a pass of two hours): its
 * dictionary and codes took a 2-hour pass's coding from 210 to 80 ms and its sorted stream
 * from 410 to 345 ms (2 threads, medians of 6).
 */
export const viewsOnlyOmittedColumns: ReadonlySet<string> = new Set(['received_at', 'attrs', 'href', 'placement', 'currency', 'ip', 'ip_key', 'name_original', 'properties', 'traits', 'previous_id', 'group_id']);

const enumName = (column: string) => `rules_dict_${column}`;

/** How the rules' events are selected from a table and handed over (see {@link codeRuleColumns}). */
export interface RuleColumns {
  /** SELECT list: numbers as DOUBLE, coded columns as UINTEGER codes, the rest as VARCHAR. */
  readonly select: string;
  readonly plan: ColumnPlan[];
  /** Drops the dictionaries (ENUM types) from the session. */
  drop(): Promise<void>;
}

/**
 * Builds the dictionaries of `table`'s coded columns (one scan), as ENUM types, and the select
 * list that hands the rules' columns over as codes and numbers; the columns of `omitted` are
 * not selected (the events lack those fields). A `verdictColumn` (BOOLEAN) of the table is
 * handed over last, as a number (1, 0 or NULL).
 */
export async function codeRuleColumns(
  conn: DuckDBConnection,
  table: string,
  omitted: ReadonlySet<string> = new Set(),
  verdictColumn?: string,
): Promise<RuleColumns> {
  const columns = eventColumns.filter((c) => !omitted.has(c.name));
  const coded = columns.filter((c) => codedColumns.has(c.name)).map((c) => c.name);
  const dictionaryLists = coded.map((c) => `list(DISTINCT ${c}) FILTER (WHERE ${c} IS NOT NULL) AS ${c}`).join(', ');
  await conn.run(`CREATE OR REPLACE TEMP TABLE rules_dicts AS SELECT ${dictionaryLists} FROM ${table}`);
  const drop = async () => {
    for (const c of coded) await conn.run(`DROP TYPE IF EXISTS ${enumName(c)}`);
    await conn.run('DROP TABLE IF EXISTS rules_dicts');
  };
  try {
    for (const column of coded) {
      await conn.run(`DROP TYPE IF EXISTS ${enumName(column)}`);
      await conn.run(`CREATE TYPE ${enumName(column)} AS ENUM (SELECT unnest(${column}) FROM rules_dicts)`);
    }
    const ranges = await conn.runAndReadAll(`SELECT ${coded.map((c) => `enum_range(NULL::${enumName(c)})`).join(', ')}`);
    const row = ranges.getRowsJS()[0] as (string[] | null)[];
    const dictionaries = new Map(coded.map((c, i) => [c, row[i] ?? []]));
    const plan: ColumnPlan[] = columns.map((c) => {
      if (c.type !== 'VARCHAR') return { name: c.name, kind: 'double' };
      const dictionary = dictionaries.get(c.name);
      return dictionary ? { name: c.name, kind: 'code', dictionary } : { name: c.name, kind: 'string' };
    });
    if (verdictColumn !== undefined) plan.push({ name: verdictColumn, kind: 'double' });
    const select = plan
      .map((p) =>
        p.kind === 'double' ? `${p.name}::DOUBLE AS ${p.name}` : p.kind === 'code' ? `enum_code(${p.name}::${enumName(p.name)})::UINTEGER AS ${p.name}` : p.name,
      )
      .join(', ');
    return { select, plan, drop };
  } catch (cause) {
    await drop().catch(() => undefined);
    throw cause;
  }
}
