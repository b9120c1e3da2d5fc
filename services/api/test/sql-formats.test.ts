// The SQL answers' formats without DuckDB: Accept negotiation, CSV quoting, JSON numbers that
// stay exact, integers wider than 64 bits, and Arrow IPC read back by the test's own reader
// (written from the specification) with nulls, booleans and multi-byte text.
import { describe, expect, it } from 'vitest';
import { negotiateFormat } from '../src/sql/formats/answer-format.js';
import { answerPieces, type CollectedAnswer } from '../src/sql/formats/answer-pieces.js';
import { fitInt64, type CellBlock, type ResultColumn } from '../src/sql/formats/result-cells.js';
import { readArrowStream } from './arrow-stream-reader.js';

const columns: ResultColumn[] = [
  { name: 'name', type: 'VARCHAR', kind: 'text' },
  { name: 'n', type: 'BIGINT', kind: 'int64' },
  { name: 'share', type: 'DOUBLE', kind: 'float64' },
  { name: 'ok', type: 'BOOLEAN', kind: 'boolean' },
  { name: 'k', type: 'INTEGER', kind: 'int32' },
];
const block: CellBlock = {
  rowCount: 3,
  columns: [
    ['plain', 'comma, "quoted"\nline', null],
    [1n, 9_007_199_254_740_993n, null],
    [0.25, null, -1.5],
    [true, false, null],
    [7, null, -3],
  ],
};
const answer = (blocks: CellBlock[]): CollectedAnswer => ({ columns, blocks, rowCount: blocks.reduce((n, b) => n + b.rowCount, 0), stats: { rowsScanned: 3, filesRead: 1, seconds: 0.01 } });
const bytes = async (a: CollectedAnswer, format: 'json' | 'csv' | 'arrow') => {
  const parts: Buffer[] = [];
  for await (const p of answerPieces(a, format)) parts.push(p);
  return Buffer.concat(parts);
};

describe('SQL answer formats', () => {
  it('negotiates the format from Accept', () => {
    expect(negotiateFormat(undefined)).toBe('json');
    expect(negotiateFormat('*/*')).toBe('json');
    expect(negotiateFormat('text/csv')).toBe('csv');
    expect(negotiateFormat('application/vnd.apache.parquet')).toBe('parquet');
    expect(negotiateFormat('application/vnd.apache.arrow.stream')).toBe('arrow');
    expect(negotiateFormat('application/json;q=0.5, text/csv;q=0.9')).toBe('csv');
    expect(negotiateFormat('text/html, application/vnd.apache.parquet;q=0.1')).toBe('parquet');
    expect(negotiateFormat('image/png')).toBeNull();
    expect(negotiateFormat('text/csv;q=0')).toBeNull();
  });

  it('CSV quotes what needs it; JSON keeps int64 exact', async () => {
    expect((await bytes(answer([block]), 'csv')).toString()).toBe('name,n,share,ok,k\r\nplain,1,0.25,true,7\r\n"comma, ""quoted""\nline",9007199254740993,,false,\r\n,,-1.5,,-3\r\n');
    const json = JSON.parse((await bytes(answer([block, { rowCount: 0, columns: [[], [], [], [], []] }]), 'json')).toString());
    expect(json).toEqual({
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      rowCount: 3,
      stats: { rowsScanned: 3, filesRead: 1, seconds: 0.01 },
      rows: [
        ['plain', 1, 0.25, true, 7],
        ['comma, "quoted"\nline', '9007199254740993', null, false, null],
        [null, null, -1.5, null, -3],
      ],
    });
  });

  it('an integer column with a value beyond 64 bits travels as text', () => {
    const wide = fitInt64([{ name: 's', type: 'HUGEINT', kind: 'int64' }], [{ rowCount: 2, columns: [[2n ** 70n, 5n]] }]);
    expect(wide.columns[0]?.kind).toBe('text');
    expect(wide.blocks[0]?.columns[0]).toEqual([(2n ** 70n).toString(), '5']);
    const narrow = fitInt64([{ name: 's', type: 'HUGEINT', kind: 'int64' }], [{ rowCount: 1, columns: [[5n]] }]);
    expect(narrow.columns[0]?.kind).toBe('int64');
  });

  it('Arrow IPC: a schema, a record batch per block, the end marker', async () => {
    const stream = readArrowStream(await bytes(answer([block, block]), 'arrow'));
    expect(stream.fields).toEqual([
      { name: 'name', type: 'utf8' },
      { name: 'n', type: 'int64' },
      { name: 'share', type: 'float64' },
      { name: 'ok', type: 'bool' },
      { name: 'k', type: 'int32' },
    ]);
    expect(stream.batches).toBe(2);
    const rows = [
      ['plain', 1n, 0.25, true, 7],
      ['comma, "quoted"\nline', 9_007_199_254_740_993n, null, false, null],
      [null, null, -1.5, null, -3],
    ];
    expect(stream.rows).toEqual([...rows, ...rows]);
    const multibyte = readArrowStream(await bytes({ ...answer([]), columns: [columns[0] as ResultColumn], blocks: [{ rowCount: 2, columns: [['héllo ✓', '😀']] }] }, 'arrow'));
    expect(multibyte.rows).toEqual([['héllo ✓'], ['😀']]);
  });
});
