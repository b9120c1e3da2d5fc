import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBSession } from '../src/duckdb-session.js';
import { readChunkColumns } from '../src/chunk-columns.js';

describe('readChunkColumns: VARCHAR columns', () => {
  let session: DuckDBSession;
  beforeAll(async () => {
    session = await DuckDBSession.open({ threads: 1 });
  });
  afterAll(() => session.close());

  it('decodes runs of repeated values, long and short, NULLs and non-ASCII between them, as DuckDB has them', async () => {
    // Runs of one value (a stream sorted by user_id), values of 12 bytes and less (inline in
    // DuckDB's string_t) and longer (behind a pointer), equal prefixes that differ later.
    const values = [
      'user-0000000000000000000001', 'user-0000000000000000000001', 'user-0000000000000000000002',
      'short', 'short', null, 'short', 'twelve-bytes', 'twelve-bytes', 'twelve-byteX',
      'ünïcödé-€', 'ünïcödé-€', '', '', 'user-0000000000000000000001',
    ];
    const list = values.map((v) => (v === null ? 'NULL' : `'${v}'`)).join(', ');
    const result = await session.connection.run(`SELECT unnest([${list}]) AS s, generate_subscripts([${list}], 1) AS i ORDER BY i`);
    const chunk = await result.fetchChunk();
    if (!chunk) throw new Error('no chunk');
    const [decoded] = readChunkColumns(chunk, [{ name: 's', kind: 'string' }, { name: 'i', kind: 'double' }]);
    expect(decoded).toEqual(values);
  });
});
