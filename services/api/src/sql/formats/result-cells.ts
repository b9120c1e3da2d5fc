import { DuckDBDecimalValue, DuckDBTypeId, type DuckDBDataChunk, type DuckDBValue } from '@duckdb/node-api';

/**
 * How an answer carries a column, whatever the format: DuckDB's types map onto five kinds.
 * Types without a kind of their own (dates, timestamps, lists, structs, UUIDs, blobs) travel as
 * `text`, in DuckDB's own text form, so nothing is rounded or cut; so do the integers of a
 * column wider than 64 bits once one of its values does not fit ({@link fitInt64}).
 */
export type CellKind = 'boolean' | 'int32' | 'int64' | 'float64' | 'text';

/** A value of an answer: `int64` cells are bigints, NULL is null. */
export type Cell = boolean | number | bigint | string | null;

export interface ResultColumn {
  readonly name: string;
  /** DuckDB's name of the column's type, e.g. BIGINT, DECIMAL(18,3), STRUCT(a INTEGER). */
  readonly type: string;
  readonly kind: CellKind;
}

/** The cells of some consecutive rows, column by column. */
export interface CellBlock {
  readonly rowCount: number;
  readonly columns: readonly (readonly Cell[])[];
}

const kindsByType: Partial<Record<DuckDBTypeId, CellKind>> = {
  [DuckDBTypeId.BOOLEAN]: 'boolean',
  [DuckDBTypeId.TINYINT]: 'int32',
  [DuckDBTypeId.SMALLINT]: 'int32',
  [DuckDBTypeId.INTEGER]: 'int32',
  [DuckDBTypeId.UTINYINT]: 'int32',
  [DuckDBTypeId.USMALLINT]: 'int32',
  [DuckDBTypeId.UINTEGER]: 'int64',
  [DuckDBTypeId.BIGINT]: 'int64',
  // Wider integers (sum() of BIGINT is a HUGEINT) as int64 while every value fits: see fitInt64.
  [DuckDBTypeId.UBIGINT]: 'int64',
  [DuckDBTypeId.HUGEINT]: 'int64',
  [DuckDBTypeId.UHUGEINT]: 'int64',
  [DuckDBTypeId.FLOAT]: 'float64',
  [DuckDBTypeId.DOUBLE]: 'float64',
  [DuckDBTypeId.DECIMAL]: 'float64',
  [DuckDBTypeId.VARCHAR]: 'text',
};

/** The kind a DuckDB type travels as. */
export function cellKindOf(typeId: DuckDBTypeId): CellKind {
  return kindsByType[typeId] ?? 'text';
}

function cellOf(value: DuckDBValue, kind: CellKind): Cell {
  if (value === null) return null;
  switch (kind) {
    case 'boolean':
      return Boolean(value);
    case 'int32':
      return Number(value);
    case 'int64':
      return typeof value === 'bigint' ? value : BigInt(value as number);
    case 'float64':
      return value instanceof DuckDBDecimalValue ? value.toDouble() : Number(value);
    case 'text':
      return typeof value === 'string' ? value : String(value);
  }
}

/** A DuckDB chunk's rows as cells of the columns' kinds. */
export function cellBlockOf(chunk: DuckDBDataChunk, columns: readonly ResultColumn[]): CellBlock {
  return {
    rowCount: chunk.rowCount,
    columns: columns.map((c, i) => chunk.getColumnValues(i).map((v) => cellOf(v, c.kind))),
  };
}

/** A cell in JSON: int64 as a number when exact, else as a decimal string. */
export function jsonCell(cell: Cell): boolean | number | string | null {
  if (typeof cell !== 'bigint') return cell;
  return cell >= BigInt(Number.MIN_SAFE_INTEGER) && cell <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(cell) : cell.toString();
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The answer's columns once all its rows are known: an `int64` column holding a value beyond
 * 64 bits (an UBIGINT, HUGEINT or UHUGEINT one) travels as `text` instead, its cells as decimal
 * strings, so no format wraps or rounds it.
 */
export function fitInt64(columns: readonly ResultColumn[], blocks: readonly CellBlock[]): { columns: ResultColumn[]; blocks: CellBlock[] } {
  const wide = columns.map((c, i) => c.kind === 'int64' && blocks.some((b) => (b.columns[i] as readonly Cell[]).some((v) => typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX))));
  if (!wide.includes(true)) return { columns: [...columns], blocks: [...blocks] };
  return {
    columns: columns.map((c, i) => (wide[i] ? { ...c, kind: 'text' } : c)),
    blocks: blocks.map((b) => ({ rowCount: b.rowCount, columns: b.columns.map((col, i) => (wide[i] ? col.map((v) => (v === null ? null : String(v))) : col)) })),
  };
}
