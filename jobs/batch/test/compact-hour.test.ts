import { LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { listHourFiles, type ArchivedEvent } from '@sigflow/archive';
import type { SigflowConfig } from '@sigflow/config';
import { createRedis, type RedisClient } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactHour, createBatchContext, DuckDBSession } from '../src/index.js';
import { endTestRun, HOUR, pageView, SECOND, T0, testConfig, writeArchive } from './helpers.js';

/** More users than DuckDB gives a dictionary by default (about 6,000), each with three page views. */
const USERS = 8_000;

// A compacted hour is sorted by user, so its user ids come in runs: they get a dictionary
// (compactedFileFormat), which scans faster; its event ids, unique, never do.
describe('compactHour', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let duckdb: DuckDBSession;

  beforeAll(async () => {
    ({ config, dir } = testConfig('compact'));
    redis = createRedis(config.redis);
    duckdb = await DuckDBSession.open({ threads: 1 });
    const events: ArchivedEvent[] = [];
    for (let i = 0; i < 3 * USERS; i++) {
      const event = pageView({ id: `pv-${i}`, ts: T0 + (i % 3_600) * SECOND, user: `user-${i % USERS}`, page: 'home' });
      events.push({ event, partition: 0, offset: String(i) });
    }
    // Two flushes of the partition: two files of the hour to merge.
    await writeArchive(config.archiver.dir, events.slice(0, 12_000));
    await writeArchive(config.archiver.dir, events.slice(12_000));
  });
  afterAll(() => endTestRun({ config, dir, redis, duckdb }));

  /** Each column's encodings over every row group of `files`, as `column -> 'ENC ENC'`. */
  async function encodings(files: readonly string[]): Promise<unknown[][]> {
    const answer = await duckdb.connection.runAndReadAll(
      `SELECT path_in_schema, string_agg(DISTINCT encodings, ' ') FROM parquet_metadata($files)
       WHERE path_in_schema IN ('event_id', 'user_id') GROUP BY ALL ORDER BY ALL`,
      { files: listValue([...files]) },
      { files: LIST(VARCHAR) },
    );
    return answer.getRows();
  }

  it('merges the files into one with a dictionary for the user ids and none for the event ids', async () => {
    const ctx = createBatchContext(config, redis);
    expect(await listHourFiles(config.archiver.dir, T0)).toHaveLength(2);
    const result = await compactHour({ context: ctx, hour: T0, force: true, duckdb });
    expect(result).toMatchObject({ filesBefore: 2, filesAfter: 1, rows: 3 * USERS });
    expect(await encodings(await listHourFiles(config.archiver.dir, T0))).toEqual([
      ['event_id', 'DELTA_LENGTH_BYTE_ARRAY'],
      ['user_id', 'RLE_DICTIONARY'],
    ]);
  });

  // A dictionary is a row group's (122,880 rows): the limit must be under a row group's rows,
  // not half the file's, or every column of a big file's row groups takes one (event ids too)
  // and the writer holds them all: a dense hour's compaction ran out of DuckDB's memory.
  it('a file of several row groups: still no dictionary for the event ids', async () => {
    const ctx = createBatchContext(config, redis);
    const hour = T0 + HOUR;
    const rows = 250_000;
    const events: ArchivedEvent[] = [];
    for (let i = 0; i < rows; i++) {
      const event = pageView({ id: `big-${i}`, ts: hour + (i % 3_600) * SECOND, user: `user-${i % USERS}`, page: 'home' });
      events.push({ event, partition: 0, offset: String(i) });
    }
    await writeArchive(config.archiver.dir, events.slice(0, rows / 2));
    await writeArchive(config.archiver.dir, events.slice(rows / 2));
    expect(await compactHour({ context: ctx, hour, force: true, duckdb })).toMatchObject({ filesBefore: 2, filesAfter: 1, rows });
    // Per row group: its rows and its event ids' encodings (the last, of 4,240 rows, may take one).
    const groups = await duckdb.connection.runAndReadAll(
      `SELECT row_group_num_rows::DOUBLE, encodings FROM parquet_metadata($files) WHERE path_in_schema = 'event_id' ORDER BY row_group_id`,
      { files: listValue(await listHourFiles(config.archiver.dir, hour)) },
      { files: LIST(VARCHAR) },
    );
    expect(groups.getRows().slice(0, 2)).toEqual([
      [122_880, 'DELTA_LENGTH_BYTE_ARRAY'],
      [122_880, 'DELTA_LENGTH_BYTE_ARRAY'],
    ]);
  });
});
