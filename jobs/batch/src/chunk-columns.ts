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

/** Validity bit of row `i` (a null mask means every row is valid). */
const isValid = (mask: Uint8Array | null, i: number) => mask === null || ((mask[i >> 3] as number) >> (i & 7)) & 1;

function validityOf(vector: bindings.Vector, rows: number): Uint8Array | null {
  return bindings.vector_get_validity(vector, Math.ceil(rows / 64) * 8) ?? null;
}

function doubles(vector: bindings.Vector, rows: number): (number | null)[] {
  const data = bindings.vector_get_data(vector, rows * 8);
  const values = new Float64Array(data.buffer, data.byteOffset, rows);
  const mask = validityOf(vector, rows);
  const out: (number | null)[] = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = isValid(mask, i) ? (values[i] as number) : null;
  return out;
}

function codes(vector: bindings.Vector, rows: number, dictionary: readonly string[]): (string | null)[] {
  const data = bindings.vector_get_data(vector, rows * 4);
  const values = new Uint32Array(data.buffer, data.byteOffset, rows);
  const mask = validityOf(vector, rows);
  const out: (string | null)[] = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = isValid(mask, i) ? (dictionary[values[i] as number] as string) : null;
  return out;
}

/** DuckDB's string_t: 4-byte length, then up to 12 bytes inline or a pointer at +8. */
function strings(vector: bindings.Vector, rows: number): (string | null)[] {
  const data = bindings.vector_get_data(vector, rows * 16);
  const view = new DataView(data.buffer, data.byteOffset, rows * 16);
  const mask = validityOf(vector, rows);
  const out: (string | null)[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    if (!isValid(mask, i)) {
      out[i] = null;
      continue;
    }
    const at = i * 16;
    const length = view.getUint32(at, true);
    out[i] =
      length <= 12
        ? inlineString(data, at + 4, length)
        : decoder.decode(bindings.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + at + 8, length));
  }
  return out;
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

/**
 * The values of a result chunk, column by column as the plan says (column i of the chunk is
 * plan[i]), read straight from DuckDB's vectors: no per-value converter, no string decoded twice.
 */
export function readChunkColumns(chunk: DuckDBDataChunk, plan: readonly ColumnPlan[]): unknown[][] {
  const rows = chunk.rowCount;
  return plan.map((column, c) => {
    const vector = bindings.data_chunk_get_vector(chunk.chunk, c);
    switch (column.kind) {
      case 'double':
        return doubles(vector, rows);
      case 'code':
        return codes(vector, rows, column.dictionary);
      case 'string':
        return strings(vector, rows);
    }
  });
}
