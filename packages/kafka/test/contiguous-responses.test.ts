import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DynamicBuffer } from '@platformatic/dynamic-buffer';
import { Reader } from '@platformatic/kafka';
import { chunkedSubarray, readResponsesContiguously } from '../src/contiguous-responses.js';

/** Zigzag varint bytes of `n` (the record fields' encoding), written by hand. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (let z = n >= 0 ? n * 2 : -n * 2 - 1; ; z = Math.floor(z / 128)) {
    if (z < 0x80) return [...out, z];
    out.push((z & 0x7f) | 0x80);
  }
};

/** `bytes` cut into chunks of `size`, as a socket hands an answer over. */
const chunked = (bytes: number[], size: number): DynamicBuffer => {
  const buffer = new DynamicBuffer();
  for (let at = 0; at < bytes.length; at += size) buffer.append(Buffer.from(bytes.slice(at, at + size)));
  return buffer;
};

describe("@platformatic/kafka's answers read from one buffer", () => {
  readResponsesContiguously();
  // 400 fields as a record lays them out: a varint (one to three bytes: -300, 0, 300, ...), then
  // a varint length and that many bytes.
  const values = Array.from({ length: 400 }, (_, i) => (i % 3) * 300 - 300 + i);
  const bytes = values.flatMap((v) => [...varint(v), ...varint(`v${v}`.length), ...Buffer.from(`v${v}`)]);

  it('copies a view spanning several chunks into one, with the same bytes', () => {
    const answer = chunked([0, 0, ...bytes], 7);
    const view = answer.subarray(2);
    expect(view.buffers).toHaveLength(1);
    expect([...view.buffer]).toEqual(bytes);
  });

  it('keeps a view within one chunk as it is (no copy)', () => {
    const chunk = Buffer.from(bytes);
    const answer = new DynamicBuffer([chunk, Buffer.from([1, 2, 3])]);
    const view = answer.subarray(5, 50);
    expect(view.buffers).toHaveLength(1);
    expect(view.buffers[0]?.buffer).toBe(chunk.buffer);
  });

  it('reads every field of the view as the chunked answer held it', () => {
    const reader = new Reader(chunked(bytes, 5).subarray(0));
    const read = values.map(() => [reader.readVarInt(), reader.readVarIntBytes()?.toString()]);
    expect(read).toEqual(values.map((v) => [v, `v${v}`]));
    expect(reader.remaining).toBe(0);
  });
});

// The patch replaces a method of a dependency's internals, measured on these versions. A new
// version may parse answers another way (the patch then does nothing, or something else), or fix
// the cost itself (the patch is then a needless copy): each check below fails on such a change,
// and the README says what was measured and what the library itself would need.
describe('what contiguous-responses.ts was measured on', () => {
  const require = createRequire(import.meta.url);
  const versionOf = (name: string) => (JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve(name)), '..', 'package.json'), 'utf8')) as { version: string }).version;

  it('is @platformatic/kafka 1.35.0 over @platformatic/dynamic-buffer 0.3.1', () => {
    expect(versionOf('@platformatic/kafka')).toBe('1.35.0');
    expect(versionOf('@platformatic/dynamic-buffer')).toBe('0.3.1');
  });

  it("wraps the library's subarray as it was, which makes a view of several chunks", () => {
    // SHA-256 of the method's source in dynamic-buffer 0.3.1.
    expect(createHash('sha256').update(chunkedSubarray.toString()).digest('hex')).toBe('ce489da3bd6f3fc204676383abdfc2a4a8b0838a374acd4916846c7986fb712e');
    const view = chunkedSubarray.call(new DynamicBuffer([Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6])]), 1, 5);
    expect(view.buffers.map((b) => [...b])).toEqual([[2, 3], [4, 5]]);
  });

  it("is the call through which the client's connection parses every answer", () => {
    const connection = fs.readFileSync(path.join(path.dirname(require.resolve('@platformatic/kafka')), 'network', 'connection.js'), 'utf8');
    expect(connection).toContain('new Reader(this.#responseReader.buffer.subarray(this.#responseReader.position, this.#nextMessage + INT32_SIZE))');
  });
});
