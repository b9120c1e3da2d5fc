/**
 * A 64-bit hash of an event id, as two 32-bit halves: FNV-1a and a multiplicative hash with
 * another seed over the UTF-16 code units. The dedupe store keeps these 8 bytes per id, not
 * the id; two distinct ids collide with probability ~2^-64 per pair (at 10^9 remembered ids,
 * ~3 % that any pair among them does, and then one event is dropped as a duplicate).
 */
export function hashEventId(id: string): [hi: number, lo: number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, b >>> 0];
}
