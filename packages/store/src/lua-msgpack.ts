/**
 * Encodes arrays of strings, numbers and byte buffers as MessagePack the way Redis's Lua
 * `cmsgpack.unpack` reads it: Redis's cmsgpack knows no `bin` types, so byte buffers go as `str`
 * (Lua strings hold any bytes). Integers up to 32 bits take int formats, larger ones float64
 * (exact below 2^53, and Redis prints them back as integers); other numbers go as their
 * shortest decimal string, as a client would send them. Enough for a commit's commands.
 */
type Value = string | number | Buffer | readonly Value[];

class Writer {
  buf = Buffer.allocUnsafe(64 * 1024);
  at = 0;

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  header(n: number, fix: number, fixMax: number, c8: number | null, c16: number, c32: number): void {
    this.room(5);
    if (n <= fixMax) this.buf[this.at++] = fix | n;
    else if (c8 !== null && n < 0x100) {
      this.buf[this.at++] = c8;
      this.buf[this.at++] = n;
    } else if (n < 0x10000) {
      this.buf[this.at++] = c16;
      this.at = this.buf.writeUInt16BE(n, this.at);
    } else {
      this.buf[this.at++] = c32;
      this.at = this.buf.writeUInt32BE(n, this.at);
    }
  }

  bytes(b: Buffer): void {
    this.header(b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.header(n, 0xa0, 31, 0xd9, 0xda, 0xdb);
    this.room(n);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  number(x: number): void {
    if (!Number.isInteger(x)) {
      this.string(String(x));
      return;
    }
    this.room(9);
    if (Number.isInteger(x) && x >= 0 && x < 0x80) this.buf[this.at++] = x;
    else if (Number.isInteger(x) && x >= -0x80000000 && x <= 0x7fffffff) {
      this.buf[this.at++] = 0xd2;
      this.at = this.buf.writeInt32BE(x, this.at);
    } else {
      this.buf[this.at++] = 0xcb;
      this.at = this.buf.writeDoubleBE(x, this.at);
    }
  }

  value(v: Value): void {
    if (typeof v === 'string') this.string(v);
    else if (typeof v === 'number') this.number(v);
    else if (Buffer.isBuffer(v)) this.bytes(v);
    else {
      const list = v as readonly Value[];
      this.header(list.length, 0x90, 15, null, 0xdc, 0xdd);
      for (const item of list) this.value(item);
    }
  }
}

/** MessagePack of `value` for Redis's `cmsgpack.unpack`. */
export function packForLua(value: readonly Value[]): Buffer {
  const w = new Writer();
  w.value(value);
  return w.buf.subarray(0, w.at);
}
