/**
 * A small FlatBuffers encoder for the Arrow IPC messages ({@link ./arrow-ipc.ts}): tables of
 * scalar, string, sub-table and vector fields, laid out front to back (every referenced object
 * after the field that points at it, as FlatBuffers' unsigned offsets need). Only what the
 * Arrow schema and record-batch messages use.
 */

export type FbScalar = { readonly u8: number } | { readonly i16: number } | { readonly i32: number } | { readonly i64: bigint } | { readonly bool: boolean };

/** A table: its fields by field id (`undefined`: absent, the reader takes the default). */
export interface FbTable {
  readonly fields: readonly (FbField | undefined)[];
}
export type FbField = FbScalar | { readonly string: string } | { readonly table: FbTable } | { readonly tables: readonly FbTable[] } | { readonly structs: Buffer; readonly count: number };

const scalarSize = (f: FbScalar): number => ('u8' in f || 'bool' in f ? 1 : 'i16' in f ? 2 : 'i32' in f ? 4 : 8);
const isScalar = (f: FbField): f is FbScalar => 'u8' in f || 'i16' in f || 'i32' in f || 'i64' in f || 'bool' in f;

class Writer {
  private buf = Buffer.alloc(1024);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next);
    this.buf = next;
  }

  pad(to: number, phase = 0): void {
    while ((this.length - phase) % to !== 0) this.u8(0);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.length++);
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }

  scalar(f: FbScalar): void {
    this.ensure(8);
    if ('u8' in f) this.buf.writeUInt8(f.u8, this.length);
    else if ('bool' in f) this.buf.writeUInt8(f.bool ? 1 : 0, this.length);
    else if ('i16' in f) this.buf.writeInt16LE(f.i16, this.length);
    else if ('i32' in f) this.buf.writeInt32LE(f.i32, this.length);
    else this.buf.writeBigInt64LE(f.i64, this.length);
    this.length += scalarSize(f);
  }

  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }

  patchI32(at: number, v: number): void {
    this.buf.writeInt32LE(v, at);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Where each present field sits in the table (bytes from its start) and the table's size. */
function tableLayout(fields: readonly (FbField | undefined)[]): { offsets: number[]; size: number } {
  const sizeOf = (f: FbField) => (isScalar(f) ? scalarSize(f) : 4);
  // Largest first: each field lands aligned to its size in a table that starts 8-aligned.
  const order = fields.map((f, id) => ({ f, id })).filter((x): x is { f: FbField; id: number } => x.f !== undefined).sort((a, b) => sizeOf(b.f) - sizeOf(a.f));
  const offsets: number[] = new Array(fields.length).fill(0);
  let at = 4; // the table's soffset to its vtable
  for (const { f, id } of order) {
    const size = sizeOf(f);
    at = Math.ceil(at / size) * size;
    offsets[id] = at;
    at += size;
  }
  return { offsets, size: Math.ceil(at / 4) * 4 };
}

function writeTable(w: Writer, table: FbTable): number {
  const { offsets, size } = tableLayout(table.fields);
  w.pad(2);
  const vtable = w.length;
  w.u16(4 + 2 * table.fields.length);
  w.u16(size);
  for (let id = 0; id < table.fields.length; id++) w.u16(table.fields[id] === undefined ? 0 : (offsets[id] as number));
  w.pad(8);
  const start = w.length;
  w.u32(0);
  w.patchI32(start, start - vtable);
  while (w.length < start + size) w.u8(0);
  const refs: { at: number; field: FbField }[] = [];
  const end = w.length;
  table.fields.forEach((f, id) => {
    if (f === undefined) return;
    const at = start + (offsets[id] as number);
    if (isScalar(f)) {
      w.length = at;
      w.scalar(f);
    } else refs.push({ at, field: f });
  });
  w.length = end;
  for (const { at, field } of refs) w.patchU32(at, writeReferenced(w, field) - at);
  return start;
}

/** Writes a referenced object (string, table, vector) and returns where it starts. */
function writeReferenced(w: Writer, f: FbField): number {
  if ('table' in f) return writeTable(w, f.table);
  if ('string' in f) {
    w.pad(4);
    const at = w.length;
    const text = Buffer.from(f.string, 'utf8');
    w.u32(text.length);
    w.bytes(text);
    w.u8(0);
    return at;
  }
  if ('tables' in f) {
    w.pad(4);
    const at = w.length;
    w.u32(f.tables.length);
    const slots = f.tables.map(() => {
      const slot = w.length;
      w.u32(0);
      return slot;
    });
    f.tables.forEach((t, i) => w.patchU32(slots[i] as number, writeTable(w, t) - (slots[i] as number)));
    return at;
  }
  if ('structs' in f) {
    // The elements (structs of 8-byte fields) start 8-aligned, right after the 4-byte length.
    w.pad(8, 4);
    const at = w.length;
    w.u32(f.count);
    w.bytes(f.structs);
    return at;
  }
  throw new Error('not a referenced field');
}

/** A FlatBuffer whose root is `root`, its size a multiple of 8. */
export function flatbuffer(root: FbTable): Buffer {
  const w = new Writer();
  w.u32(0);
  w.patchU32(0, writeTable(w, root));
  w.pad(8);
  return w.result();
}
