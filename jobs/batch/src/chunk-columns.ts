import bindings from '@duckdb/node-bindings';
import type { DuckDBDataChunk } from '@duckdb/node-api';

/**
 * How one result column is handed over to JS (see {@link readChunkColumns}):
 * - `double`: a DOUBLE column, read from its Float64 buffer;
 * - `code`: a UINTEGER code into `dictionary` (a low-cardinality string column coded by DuckDB):
 *   every row of one value gets the same JS string, none is decoded;
 * - `string`: a VARCHAR column, decoded row by row.
 */
export type ColumnPlan =
  | { readonly name: string; readonly kind: 'double' }
  | { readonly name: string; readonly kind: 'string' }
  | { readonly name: string; readonly kind: 'code'; readonly dictionary: readonly string[] };

const decoder = new TextDecoder();

/**
 * One column of a chunk copied out of DuckDB's memory: `valid[i]` is 1 when row i is not NULL;
 * numbers for `double`, dictionary codes for `code`, decoded strings for `string` columns. Typed
 * arrays can be transferred to a rule thread without copying.
 */
export interface RawColumn {
  readonly valid: Uint8Array;
  readonly values: Float64Array | Uint32Array | (string | null)[];
}

function validityOf(vector: bindings.Vector, rows: number): Uint8Array {
  const mask = bindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8) ?? null;
  const valid = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) valid[i] = mask === null ? 1 : ((mask[i >> 3] as number) >> (i & 7)) & 1;
  return valid;
}

/**
 * DuckDB's string_t: 4-byte length, then up to 12 bytes inline or a 4-byte prefix and a pointer
 * at +8. A row whose 16 bytes equal the previous row's (the same inline string, or the same
 * pointer) gets the previous row's JS string: a stream sorted by user_id repeats each user's id
 * row after row, and one string per run is decoded (and compared by pointer in a Map or `===`).
 */
function strings(vector: bindings.Vector, rows: number, valid: Uint8Array): (string | null)[] {
  const data = bindings.vector_get_data(vector, rows * 16);
  const view = new DataView(data.buffer, data.byteOffset, rows * 16);
  const out: (string | null)[] = new Array(rows);
  let previous = -1;
  for (let i = 0; i < rows; i++) {
    if (!valid[i]) {
      out[i] = null;
      continue;
    }
    const at = i * 16;
    if (previous >= 0 && sameStringT(view, previous * 16, at)) {
      out[i] = out[previous] as string;
      previous = i;
      continue;
    }
    previous = i;
    const length = view.getUint32(at, true);
    out[i] =
      length <= 12
        ? inlineString(data, at + 4, length)
        : decoder.decode(bindings.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + at + 8, length));
  }
  return out;
}

/** Whether two string_t are byte for byte the same (an inline string's bytes, or length, prefix and pointer). */
function sameStringT(view: DataView, a: number, b: number): boolean {
  return (
    view.getUint32(a, true) === view.getUint32(b, true) &&
    view.getUint32(a + 4, true) === view.getUint32(b + 4, true) &&
    view.getUint32(a + 8, true) === view.getUint32(b + 8, true) &&
    view.getUint32(a + 12, true) === view.getUint32(b + 12, true)
  );
}

/** Short strings: ASCII built from char codes (cheaper than a TextDecoder call), else decoded. */
function inlineString(data: Uint8Array, from: number, length: number): string {
  let s = '';
  for (let k = 0; k < length; k++) {
    const c = data[from + k] as number;
    if (c >= 0x80) return decoder.decode(data.subarray(from, from + length));
    s += String.fromCharCode(c);
  }
  return s;
}

/** The chunk's columns as the plan says (column i of the chunk is plan[i]), copied out of DuckDB. */
export function readRawColumns(chunk: DuckDBDataChunk, plan: readonly ColumnPlan[]): RawColumn[] {
  const rows = chunk.rowCount;
  return plan.map((column, c) => {
    const vector = bindings.data_chunk_get_vector(chunk.chunk, c);
    const valid = validityOf(vector, rows);
    if (column.kind === 'string') return { valid, values: strings(vector, rows, valid) };
    const width = column.kind === 'double' ? 8 : 4;
    const data = bindings.vector_get_data(vector, rows * width);
    const bytes = data.slice(0, rows * width);
    return { valid, values: column.kind === 'double' ? new Float64Array(bytes.buffer, 0, rows) : new Uint32Array(bytes.buffer, 0, rows) };
  });
}

/** The rows `picked` (indexes, in order) of raw columns. */
export function pickRows(columns: readonly RawColumn[], picked: readonly number[]): RawColumn[] {
  const n = picked.length;
  return columns.map(({ valid, values }) => {
    const v = new Uint8Array(n);
    const out: Float64Array | Uint32Array | (string | null)[] =
      values instanceof Float64Array ? new Float64Array(n) : values instanceof Uint32Array ? new Uint32Array(n) : new Array<string | null>(n);
    for (let k = 0; k < n; k++) {
      const i = picked[k] as number;
      v[k] = valid[i] as number;
      out[k] = values[i] as never;
    }
    return { valid: v, values: out };
  });
}

/** JS values of raw columns: numbers, dictionary strings (shared), strings; null for NULL. */
export function columnValues(columns: readonly RawColumn[], plan: readonly ColumnPlan[], rows: number): unknown[][] {
  return columns.map(({ valid, values }, c) => {
    const column = plan[c] as ColumnPlan;
    const out: unknown[] = new Array(rows);
    const dictionary = column.kind === 'code' ? column.dictionary : undefined;
    for (let i = 0; i < rows; i++) out[i] = valid[i] ? (dictionary ? dictionary[values[i] as number] : values[i]) : null;
    return out;
  });
}

/**
 * The values of a result chunk, column by column as the plan says, read straight from DuckDB's
 * vectors: no per-value converter, no repeated string decoded twice.
 */
export function readChunkColumns(chunk: DuckDBDataChunk, plan: readonly ColumnPlan[]): unknown[][] {
  return columnValues(readRawColumns(chunk, plan), plan, chunk.rowCount);
}
