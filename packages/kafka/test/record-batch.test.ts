import { describe, expect, it } from 'vitest';
import { recordValuesAsFetched } from '../src/record-batch.js';

describe('recordValuesAsFetched', () => {
  it('gives back each value, in order, as the client reads it from a record batch', () => {
    const values = ['{"event_id":"a"}', '', 'ünïcödé ✓', 'x'.repeat(70_000)].map((v) => Buffer.from(v));
    const read = recordValuesAsFetched(values);
    expect(read.map((v) => v?.toString('utf8'))).toEqual(['{"event_id":"a"}', '', 'ünïcödé ✓', 'x'.repeat(70_000)]);
  });

  it('reads nothing from nothing', () => {
    expect(recordValuesAsFetched([])).toEqual([]);
  });
});
