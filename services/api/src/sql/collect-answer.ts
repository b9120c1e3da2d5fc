import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { cellBlockOf, cellKindOf, fitInt64, type CellBlock, type ResultColumn } from './formats/result-cells.js';
import type { CollectedAnswer } from './formats/answer-pieces.js';
import { clearProfile, readProfile } from './query-profile.js';
import { SqlRefusal } from './sql-refusal.js';

/**
 * Runs a prepared SELECT and keeps its rows, at most `maxRows`: DuckDB streams the result chunk
 * by chunk, and one row past the cap stops the query (413) before the rest is computed. The
 * statistics come from DuckDB's profile of the query (`profileFile`), written when it ends.
 */
export async function collectAnswer(prepared: DuckDBPreparedStatement, maxRows: number, profileFile: string): Promise<CollectedAnswer> {
  clearProfile(profileFile);
  const started = performance.now();
  const result = await prepared.stream();
  const names = result.deduplicatedColumnNames();
  const columns: ResultColumn[] = names.map((name, i) => ({ name, type: result.columnType(i).toString(), kind: cellKindOf(result.columnTypeId(i)) }));
  const blocks: CellBlock[] = [];
  let rowCount = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    rowCount += chunk.rowCount;
    if (rowCount > maxRows) {
      throw new SqlRefusal(413, `the result has more than ${maxRows} rows (the cap): aggregate, filter or add a LIMIT`);
    }
    blocks.push(cellBlockOf(chunk, columns));
  }
  const seconds = Math.round(performance.now() - started) / 1000;
  return { ...fitInt64(columns, blocks), rowCount, stats: { ...readProfile(profileFile), seconds } };
}
