import { flatbuffer, type FbTable } from './flatbuffer.js';
import type { CellBlock, CellKind, ResultColumn } from './result-cells.js';

/**
 * Arrow IPC streaming format (the Arrow columnar format's "IPC streaming format", metadata
 * version V5): a schema message, one record batch per block of rows, the end-of-stream marker.
 * Column kinds map to Arrow's Bool, Int(32, signed), Int(64, signed), FloatingPoint(DOUBLE)
 * and Utf8, every field nullable, no dictionaries, no compression.
 */

const METADATA_V5 = 4;
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
const TYPE_INT = 2;
const TYPE_FLOATING_POINT = 3;
const TYPE_UTF8 = 5;
const TYPE_BOOL = 6;
const PRECISION_DOUBLE = 2;
const CONTINUATION = 0xffffffff;

function arrowType(kind: CellKind): { typeType: number; type: FbTable } {
  switch (kind) {
    case 'boolean':
      return { typeType: TYPE_BOOL, type: { fields: [] } };
    case 'int32':
      return { typeType: TYPE_INT, type: { fields: [{ i32: 32 }, { bool: true }] } };
    case 'int64':
      return { typeType: TYPE_INT, type: { fields: [{ i32: 64 }, { bool: true }] } };
    case 'float64':
      return { typeType: TYPE_FLOATING_POINT, type: { fields: [{ i16: PRECISION_DOUBLE }] } };
    case 'text':
      return { typeType: TYPE_UTF8, type: { fields: [] } };
  }
}

/** Field: name, nullable, type_type, type, dictionary, children. */
function field(column: ResultColumn): FbTable {
  const { typeType, type } = arrowType(column.kind);
  return { fields: [{ string: column.name }, { bool: true }, { u8: typeType }, { table: type }, undefined, { tables: [] }] };
}

/** Message: version, header_type, header, bodyLength, framed as an encapsulated message. */
function message(headerType: number, header: FbTable, body: Buffer): Buffer {
  const meta = flatbuffer({ fields: [{ i16: METADATA_V5 }, { u8: headerType }, { table: header }, { i64: BigInt(body.length) }] });
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(CONTINUATION, 0);
  prefix.writeInt32LE(meta.length, 4);
  return Buffer.concat([prefix, meta, body]);
}

/** The schema message of the columns (Schema: endianness Little, fields). */
export function arrowSchemaMessage(columns: readonly ResultColumn[]): Buffer {
  return message(HEADER_SCHEMA, { fields: [{ i16: 0 }, { tables: columns.map(field) }] }, Buffer.alloc(0));
}

const padded = (n: number) => Math.ceil(n / 8) * 8;

/** A bitmap of `n` bits, bit i set when `isSet(i)`. */
function bitmap(n: number, isSet: (i: number) => boolean): Buffer {
  const bits = Buffer.alloc(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (isSet(i)) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  return bits;
}

/** The buffers of one column: validity (empty without nulls), then the values' buffers. */
function columnBuffers(cells: readonly unknown[], kind: CellKind, n: number): { nulls: number; buffers: Buffer[] } {
  const nulls = cells.reduce<number>((k, c) => k + (c === null ? 1 : 0), 0);
  const validity = nulls === 0 ? Buffer.alloc(0) : bitmap(n, (i) => cells[i] !== null);
  switch (kind) {
    case 'boolean':
      return { nulls, buffers: [validity, bitmap(n, (i) => cells[i] === true)] };
    case 'int32':
      return { nulls, buffers: [validity, Buffer.from(Int32Array.from(cells, (c) => (c === null ? 0 : (c as number))).buffer)] };
    case 'int64':
      return { nulls, buffers: [validity, Buffer.from(BigInt64Array.from(cells, (c) => (c === null ? 0n : (c as bigint))).buffer)] };
    case 'float64':
      return { nulls, buffers: [validity, Buffer.from(Float64Array.from(cells, (c) => (c === null ? 0 : (c as number))).buffer)] };
    case 'text': {
      const parts = cells.map((c) => (c === null ? Buffer.alloc(0) : Buffer.from(c as string, 'utf8')));
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + (parts[i] as Buffer).length;
      return { nulls, buffers: [validity, Buffer.from(offsets.buffer), Buffer.concat(parts)] };
    }
  }
}

/** One record batch message of a block (RecordBatch: length, nodes, buffers). */
export function arrowRecordBatchMessage(columns: readonly ResultColumn[], block: CellBlock): Buffer {
  const n = block.rowCount;
  const nodes = Buffer.alloc(16 * columns.length);
  const bodyParts: Buffer[] = [];
  const specs: [number, number][] = [];
  let offset = 0;
  columns.forEach((column, c) => {
    const { nulls, buffers } = columnBuffers(block.columns[c] as readonly unknown[], column.kind, n);
    nodes.writeBigInt64LE(BigInt(n), 16 * c);
    nodes.writeBigInt64LE(BigInt(nulls), 16 * c + 8);
    for (const b of buffers) {
      specs.push([offset, b.length]);
      bodyParts.push(b, Buffer.alloc(padded(b.length) - b.length));
      offset += padded(b.length);
    }
  });
  const bufferStructs = Buffer.alloc(16 * specs.length);
  specs.forEach(([at, length], i) => {
    bufferStructs.writeBigInt64LE(BigInt(at), 16 * i);
    bufferStructs.writeBigInt64LE(BigInt(length), 16 * i + 8);
  });
  const header: FbTable = { fields: [{ i64: BigInt(n) }, { structs: nodes, count: columns.length }, { structs: bufferStructs, count: specs.length }] };
  return message(HEADER_RECORD_BATCH, header, Buffer.concat(bodyParts));
}

/** The end-of-stream marker. */
export function arrowEndOfStream(): Buffer {
  const eos = Buffer.alloc(8);
  eos.writeUInt32LE(CONTINUATION, 0);
  return eos;
}
