/**
 * A set of 64-bit hashes (two uint32 halves) with open addressing over typed arrays: ~12 bytes
 * a member at the load it keeps (at most 3/4), no object per member, so millions of remembered
 * event ids cost the garbage collector nothing. The pair (0, 0) marks an empty slot; a hash equal
 * to it is stored as (0, 1).
 */
export class IdHashSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private count = 0;

  constructor(capacity = 1024) {
    let size = 16;
    while (size * 0.75 < capacity) size *= 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  has(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    const mask = this.hi.length - 1;
    for (let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const h = this.hi[i] as number;
      const l = this.lo[i] as number;
      if (h === 0 && l === 0) return false;
      if (h === hi && l === lo) return true;
    }
  }

  /** Adds a hash; false when it was there already. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    if ((this.count + 1) > this.hi.length * 0.75) this.grow();
    const mask = this.hi.length - 1;
    for (let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const h = this.hi[i] as number;
      const l = this.lo[i] as number;
      if (h === hi && l === lo) return false;
      if (h === 0 && l === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.count++;
        return true;
      }
    }
  }

  /** Adds the hashes of a stored string: 8 bytes each, big-endian halves (see {@link packHashes}). */
  addPacked(stored: Buffer): void {
    const n = Math.floor(stored.length / 8);
    for (let i = 0; i < n; i++) this.add(stored.readUInt32BE(i * 8), stored.readUInt32BE(i * 8 + 4));
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    this.count = 0;
    for (let i = 0; i < hi.length; i++) {
      if (hi[i] !== 0 || lo[i] !== 0) this.add(hi[i] as number, lo[i] as number);
    }
  }
}

/** Hashes as stored in Redis: the (hi, lo) pairs of `halves`, 8 bytes each, big-endian. */
export function packHashes(halves: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(halves.length * 4);
  for (let i = 0; i < halves.length; i++) bytes.writeUInt32BE(halves[i] as number, i * 4);
  return bytes;
}
