import { PassThrough } from 'node:stream';
import parquet from 'parquetjs-lite';
import type { AnswerFormat } from './answer-format.js';
import { arrowEndOfStream, arrowRecordBatchMessage, arrowSchemaMessage } from './arrow-ipc.js';
import { jsonCell, type Cell, type CellBlock, type ResultColumn } from './result-cells.js';

/** What a query's answer holds: its columns, its rows in blocks, and its statistics. */
export interface CollectedAnswer {
  readonly columns: readonly ResultColumn[];
  readonly blocks: readonly CellBlock[];
  readonly rowCount: number;
  readonly stats: QueryStats;
}

/** What a query cost. */
export interface QueryStats {
  /** Rows the query's table scans produced (after the filters they apply). */
  readonly rowsScanned: number;
  /** Parquet files the scans opened (a filter on hour_start leaves the other hours' files out). */
  readonly filesRead: number;
  /** Wall time of the query in the worker, from its start to its last row. */
  readonly seconds: number;
}

const rowOf = (block: CellBlock, i: number): Cell[] => block.columns.map((c) => c[i] as Cell);

function* jsonPieces(answer: CollectedAnswer): Generator<Buffer> {
  const head = { columns: answer.columns.map((c) => ({ name: c.name, type: c.type })), rowCount: answer.rowCount, stats: answer.stats };
  yield Buffer.from(`${JSON.stringify(head).slice(0, -1)},"rows":[`);
  let first = true;
  for (const block of answer.blocks) {
    const lines: string[] = [];
    for (let i = 0; i < block.rowCount; i++) lines.push(JSON.stringify(rowOf(block, i).map(jsonCell)));
    if (lines.length === 0) continue;
    yield Buffer.from(`${first ? '' : ','}${lines.join(',')}`);
    first = false;
  }
  yield Buffer.from(']}');
}

/** A CSV field (RFC 4180): quoted when it holds a comma, quote or line break; NULL is empty. */
function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function* csvPieces(answer: CollectedAnswer): Generator<Buffer> {
  yield Buffer.from(`${answer.columns.map((c) => csvField(c.name)).join(',')}\r\n`);
  for (const block of answer.blocks) {
    const lines: string[] = [];
    for (let i = 0; i < block.rowCount; i++) lines.push(`${rowOf(block, i).map(csvField).join(',')}\r\n`);
    if (lines.length > 0) yield Buffer.from(lines.join(''));
  }
}

function* arrowPieces(answer: CollectedAnswer): Generator<Buffer> {
  yield arrowSchemaMessage(answer.columns);
  for (const block of answer.blocks) if (block.rowCount > 0) yield arrowRecordBatchMessage(answer.columns, block);
  yield arrowEndOfStream();
}

const safe = (c: Cell) => c === null || (typeof c === 'bigint' && c >= BigInt(Number.MIN_SAFE_INTEGER) && c <= BigInt(Number.MAX_SAFE_INTEGER));

/** The Parquet type of a column: int64 columns whose values are not all exact as numbers go as text (parquetjs-lite writes INT64 from numbers). */
function parquetType(column: ResultColumn, index: number, blocks: readonly CellBlock[]): 'BOOLEAN' | 'INT32' | 'INT64' | 'DOUBLE' | 'UTF8' {
  switch (column.kind) {
    case 'boolean':
      return 'BOOLEAN';
    case 'int32':
      return 'INT32';
    case 'float64':
      return 'DOUBLE';
    case 'text':
      return 'UTF8';
    case 'int64':
      return blocks.every((b) => (b.columns[index] as readonly Cell[]).every(safe)) ? 'INT64' : 'UTF8';
  }
}

/** The answer as one Parquet file, written by parquetjs-lite. */
async function parquetFile(answer: CollectedAnswer): Promise<Buffer> {
  const types = answer.columns.map((c, i) => parquetType(c, i, answer.blocks));
  const schema = new parquet.ParquetSchema(Object.fromEntries(answer.columns.map((c, i) => [c.name, { type: types[i] as 'UTF8', optional: true }])));
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  const writer = await parquet.ParquetWriter.openStream(schema, out, { rowGroupSize: 8192 });
  for (const block of answer.blocks) {
    for (let i = 0; i < block.rowCount; i++) {
      const row: Record<string, unknown> = {};
      answer.columns.forEach((c, k) => {
        const cell = (block.columns[k] as readonly Cell[])[i] as Cell;
        if (cell === null) return;
        row[c.name] = typeof cell === 'bigint' ? (types[k] === 'INT64' ? Number(cell) : cell.toString()) : cell;
      });
      await writer.appendRow(row);
    }
  }
  await writer.close();
  return Buffer.concat(parts);
}

/** The answer's bytes in the format, piece by piece (a piece per block of rows, Parquet in slices). */
export async function* answerPieces(answer: CollectedAnswer, format: AnswerFormat, sliceBytes = 256 * 1024): AsyncGenerator<Buffer> {
  if (format === 'json') yield* jsonPieces(answer);
  else if (format === 'csv') yield* csvPieces(answer);
  else if (format === 'arrow') yield* arrowPieces(answer);
  else {
    const file = await parquetFile(answer);
    for (let at = 0; at < file.length; at += sliceBytes) yield file.subarray(at, at + sliceBytes);
  }
}
