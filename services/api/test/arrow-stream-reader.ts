// A reader of Arrow IPC streams for the tests, written from the Arrow columnar format's
// specification (encapsulated messages, FlatBuffers tables read through their vtables), sharing
// no code with the API's writer. It reads what the API writes: Bool, Int 32/64, FloatingPoint
// DOUBLE and Utf8 fields. (The writer was also checked against apache-arrow 21's reader.)

/** A FlatBuffers table at `pos` of `buf`: field lookups through its vtable. */
class Table {
  constructor(
    readonly buf: Buffer,
    readonly pos: number,
  ) {}

  private field(id: number): number | null {
    const vtable = this.pos - this.buf.readInt32LE(this.pos);
    const vtableSize = this.buf.readUInt16LE(vtable);
    if (4 + 2 * id >= vtableSize) return null;
    const at = this.buf.readUInt16LE(vtable + 4 + 2 * id);
    return at === 0 ? null : this.pos + at;
  }

  int(id: number, size: 1 | 2 | 4 | 8, fallback = 0): number {
    const at = this.field(id);
    if (at === null) return fallback;
    return size === 1 ? this.buf.readUInt8(at) : size === 2 ? this.buf.readInt16LE(at) : size === 4 ? this.buf.readInt32LE(at) : Number(this.buf.readBigInt64LE(at));
  }

  private target(id: number): number | null {
    const at = this.field(id);
    return at === null ? null : at + this.buf.readUInt32LE(at);
  }

  table(id: number): Table | null {
    const at = this.target(id);
    return at === null ? null : new Table(this.buf, at);
  }

  string(id: number): string | null {
    const at = this.target(id);
    return at === null ? null : this.buf.toString('utf8', at + 4, at + 4 + this.buf.readUInt32LE(at));
  }

  tables(id: number): Table[] {
    const at = this.target(id);
    if (at === null) return [];
    const n = this.buf.readUInt32LE(at);
    return Array.from({ length: n }, (_, i) => {
      const slot = at + 4 + 4 * i;
      return new Table(this.buf, slot + this.buf.readUInt32LE(slot));
    });
  }

  /** A vector of structs of two int64 (FieldNode, Buffer). */
  pairs(id: number): [number, number][] {
    const at = this.target(id);
    if (at === null) return [];
    const n = this.buf.readUInt32LE(at);
    return Array.from({ length: n }, (_, i) => [Number(this.buf.readBigInt64LE(at + 4 + 16 * i)), Number(this.buf.readBigInt64LE(at + 12 + 16 * i))]);
  }
}

export interface ArrowField {
  readonly name: string;
  readonly type: 'bool' | 'int32' | 'int64' | 'float64' | 'utf8';
}

export interface ArrowStream {
  readonly fields: ArrowField[];
  /** Rows of every record batch, in order; int64 as bigint. */
  readonly rows: (boolean | number | bigint | string | null)[][];
  readonly batches: number;
}

function fieldOf(f: Table): ArrowField {
  const typeType = f.int(2, 1);
  const type = f.table(3);
  const name = f.string(0) ?? '';
  if (typeType === 6) return { name, type: 'bool' };
  if (typeType === 5) return { name, type: 'utf8' };
  if (typeType === 3 && type?.int(0, 2) === 2) return { name, type: 'float64' };
  if (typeType === 2 && type?.int(0, 4) === 32) return { name, type: 'int32' };
  if (typeType === 2 && type?.int(0, 4) === 64) return { name, type: 'int64' };
  throw new Error(`unexpected Arrow type ${typeType}`);
}

const bit = (b: Buffer, i: number) => ((b[i >> 3] ?? 0) >> (i & 7)) & 1;

/** Reads a whole IPC stream. */
export function readArrowStream(bytes: Buffer): ArrowStream {
  let at = 0;
  let fields: ArrowField[] = [];
  const rows: ArrowStream['rows'] = [];
  let batches = 0;
  for (;;) {
    if (bytes.readUInt32LE(at) !== 0xffffffff) throw new Error(`no continuation marker at ${at}`);
    const metaLength = bytes.readInt32LE(at + 4);
    if (metaLength === 0) break;
    const meta = bytes.subarray(at + 8, at + 8 + metaLength);
    const message = new Table(meta, meta.readUInt32LE(0));
    const bodyLength = message.int(3, 8);
    const body = bytes.subarray(at + 8 + metaLength, at + 8 + metaLength + bodyLength);
    const header = message.table(2);
    if (!header) throw new Error('message without header');
    if (message.int(1, 1) === 1) fields = header.tables(1).map(fieldOf);
    else if (message.int(1, 1) === 3) {
      batches++;
      const n = header.int(0, 8);
      const nodes = header.pairs(1);
      const buffers = header.pairs(2).map(([offset, length]) => body.subarray(offset, offset + length));
      const columns: (boolean | number | bigint | string | null)[][] = [];
      let b = 0;
      fields.forEach((field, c) => {
        const nulls = (nodes[c] as [number, number])[1];
        const validity = buffers[b++] as Buffer;
        const valid = (i: number) => nulls === 0 || bit(validity, i) === 1;
        const values = buffers[b++] as Buffer;
        const data = field.type === 'utf8' ? (buffers[b++] as Buffer) : Buffer.alloc(0);
        columns.push(
          Array.from({ length: n }, (_, i) => {
            if (!valid(i)) return null;
            if (field.type === 'bool') return bit(values, i) === 1;
            if (field.type === 'int32') return values.readInt32LE(4 * i);
            if (field.type === 'int64') return values.readBigInt64LE(8 * i);
            if (field.type === 'float64') return values.readDoubleLE(8 * i);
            return data.toString('utf8', values.readInt32LE(4 * i), values.readInt32LE(4 * i + 4));
          }),
        );
      });
      for (let i = 0; i < n; i++) rows.push(columns.map((col) => col[i] ?? null));
    }
    at += 8 + metaLength + bodyLength;
  }
  return { fields, rows, batches };
}
