import { createRecordsBatch, readRecordsBatches, Reader } from '@platformatic/kafka';

/**
 * Record values as a fetch hands them over: written into one record batch the way a producer
 * writes it, then read back by the client's own batch reader. For a warm-up: the reader's
 * varint and record code (a tenth of a speed process's first rounds when still cold) is
 * compiled before the first real fetch. Keys are the values' own bytes (unused by a reader).
 */
export function recordValuesAsFetched(values: readonly Buffer[]): (Buffer | null)[] {
  if (values.length === 0) return [];
  const written = createRecordsBatch(values.map((value) => ({ topic: 'warm-up', key: value.subarray(0, 16), value, headers: new Map() })));
  const out: (Buffer | null)[] = [];
  for (const batch of readRecordsBatches(Reader.from(written.buffer))) {
    for (const record of batch.records) out.push(record.value ?? null);
  }
  return out;
}
