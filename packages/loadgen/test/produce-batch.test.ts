import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../src/sinks/produce-batch.js';

describe('encodeBatch', () => {
  it('writes each key, then its JSON with the suffix for the closing brace, and indexes them', () => {
    const batch = encodeBatch(
      [
        { key: 'u1', json: '{"a":1}', partition: 3 },
        { key: 'ü', json: '{"b":"日本"}', partition: 0 },
      ],
      7,
      ',"r":5}',
    );
    expect(batch).toMatchObject({ type: 'batch', id: 7, count: 2 });
    // 'u1' (2 bytes), '{"a":1,"r":5}' (13), 'ü' (2), '{"b":"日本","r":5}' (6 + 6 + 1 + 7 = 20).
    expect([...new Int32Array(batch.index)]).toEqual([0, 2, 15, 3, 15, 17, 37, 0]);
    const data = Buffer.from(batch.data);
    expect(data.subarray(0, 15).toString()).toBe('u1{"a":1,"r":5}');
    expect(data.subarray(15, 37).toString()).toBe('ü{"b":"日本","r":5}');
  });

  it('grows its buffer for strings that take more bytes than characters', () => {
    const wide = `{"t":"${'日'.repeat(500)}"}`;
    const events = Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, json: wide, partition: i }));
    const batch = encodeBatch(events, 1, '}');
    const index = new Int32Array(batch.index);
    const data = Buffer.from(batch.data);
    for (let i = 0; i < 3; i++) {
      expect(data.subarray(index[i * 4]!, index[i * 4 + 1]!).toString()).toBe(`k${i}`);
      expect(data.subarray(index[i * 4 + 1]!, index[i * 4 + 2]!).toString()).toBe(wide);
      expect(index[i * 4 + 2]! - index[i * 4 + 1]!).toBe(8 + 1500);
    }
  });
});
