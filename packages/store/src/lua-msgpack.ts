/**
 * Encodes arrays of strings, numbers and byte buffers as MessagePack the way Redis's Lua
 * `cmsgpack.unpack` reads it: Redis's cmsgpack knows no `bin` types, so byte buffers go as `str`
 * (Lua strings hold any bytes). Integers up to 32 bits take int formats, larger ones float64
 * (exact below 2^53, and Redis prints them back as integers); other numbers go as their
 * shortest decimal string, as a client would send them. Enough for a commit's commands.
 */
type Value = string | number | Buffer | readonly Value[];

/**
 * A MessagePack writer over one growing buffer that can be reset and reused: a commit's
 * bytes are written once, with no per-command arrays and no buffer per commit once the pool
 * is warm (each fresh Buffer is external memory, which triggers V8 scavenges).
 */
export class LuaPackWriter {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  private at = 0;

  /** Starts a new message in the same buffer. */
  reset(): this {
    this.at = 0;
    return this;
  }

  /** The bytes written since the last reset (a view: valid until the next reset). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  /** The size of the buffer kept for reuse. */
  get capacity(): number {
    return this.buf.length;
  }

  /** An array header: the next `n` values are its items. */
  array(n: number): void {
    this.header(n, 0x90, 15, null, 0xdc, 0xdd);
  }

  value(v: Value): void {
    if (typeof v === 'string') this.string(v);
    else if (typeof v === 'number') this.number(v);
    else if (Buffer.isBuffer(v)) this.raw(v);
    else {
      const list = v as readonly Value[];
      this.array(list.length);
      for (const item of list) this.value(item);
    }
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  private header(n: number, fix: number, fixMax: number, c8: number | null, c16: number, c32: number): void {
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

  private raw(b: Buffer): void {
    this.header(b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  /**
   * A `str` in one pass: the header is sized for the string's longest UTF-8 form (3 bytes per
   * UTF-16 unit), the text written after it, and the header filled in with the bytes written.
   * Not always the shortest header; `cmsgpack` reads any.
   */
  private string(s: string): void {
    if (s.length <= 31 && this.shortAscii(s)) return;
    const most = 3 * s.length;
    const head = most <= 31 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
    this.room(head + most);
    const start = this.at;
    const n = this.buf.write(s, start + head, 'utf8');
    if (head === 1) this.buf[start] = 0xa0 | n;
    else if (head === 2) {
      this.buf[start] = 0xd9;
      this.buf[start + 1] = n;
    } else if (head === 3) {
      this.buf[start] = 0xda;
      this.buf.writeUInt16BE(n, start + 1);
    } else {
      this.buf[start] = 0xdb;
      this.buf.writeUInt32BE(n, start + 1);
    }
    this.at = start + head + n;
  }

  /**
   * A string of at most 31 UTF-16 units copied unit by unit when every unit is ASCII (most
   * keys, fields and numbers of a commit): for short strings this is several times cheaper
   * than `Buffer.write`'s call into C++. False, with nothing written, at the first non-ASCII unit.
   */
  private shortAscii(s: string): boolean {
    const n = s.length;
    this.room(1 + n);
    const buf = this.buf;
    const start = this.at + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[start + i] = c;
    }
    buf[this.at] = 0xa0 | n;
    this.at = start + n;
    return true;
  }

  private number(x: number): void {
    if (!Number.isInteger(x)) {
      this.string(String(x));
      return;
    }
    this.room(9);
    if (x >= 0 && x < 0x80) this.buf[this.at++] = x;
    else if (x >= -0x80000000 && x <= 0x7fffffff) {
      this.buf[this.at++] = 0xd2;
      this.at = this.buf.writeInt32BE(x, this.at);
    } else {
      this.buf[this.at++] = 0xcb;
      this.at = this.buf.writeDoubleBE(x, this.at);
    }
  }
}
