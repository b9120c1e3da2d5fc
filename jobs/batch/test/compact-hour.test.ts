import { LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { listHourFiles, type ArchivedEvent } from '@sigflow/archive';
import type { SigflowConfig } from '@sigflow/config';
import { createRedis, type RedisClient } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactHour, createBatchContext, DuckDBSession } from '../src/index.js';
import { endTestRun, pageView, SECOND, T0, testConfig, writeArchive } from './helpers.js';

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

  it('merges the files into one with a dictionary for the user ids and none for the event ids', async () => {
    const ctx = createBatchContext(config, redis);
    expect(await listHourFiles(config.archiver.dir, T0)).toHaveLength(2);
    const result = await compactHour({ context: ctx, hour: T0, force: true, duckdb });
    expect(result).toMatchObject({ filesBefore: 2, filesAfter: 1, rows: 3 * USERS });
    const merged = await listHourFiles(config.archiver.dir, T0);
    const encodings = await duckdb.connection.runAndReadAll(
      `SELECT path_in_schema, string_agg(DISTINCT encodings, ' ') FROM parquet_metadata($files)
       WHERE path_in_schema IN ('event_id', 'user_id') GROUP BY ALL ORDER BY ALL`,
      { files: listValue(merged) },
      { files: LIST(VARCHAR) },
    );
    expect(encodings.getRows()).toEqual([
      ['event_id', 'DELTA_LENGTH_BYTE_ARRAY'],
      ['user_id', 'RLE_DICTIONARY'],
    ]);
  });
});
