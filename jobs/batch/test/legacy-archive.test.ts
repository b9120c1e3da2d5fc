// Archives written before `cost` joined the archive format have no such column: the batch layer
// still reads them (their touchpoints cost nothing), alone or beside newer files, and compaction
// merges old and new files into one with every column.
import fs from 'node:fs';
import { type RedisClient, createRedis, StoreKeys } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { SigflowConfig } from '@sigflow/config';
import { listHourFiles, type ArchivedEvent } from '@sigflow/archive';
import { compactHour, createBatchContext, recomputeHours } from '../src/index.js';
import { HOUR, MINUTE, SECOND, T0, actualHashes, click, impression, testConfig, writeArchive, endTestRun } from './helpers.js';

/** Rewrites every archive file of `root` without its `cost` column, as the archiver wrote them before. */
async function dropCostColumn(files: readonly string[]): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const file of files) {
    await conn.run(`COPY (SELECT * EXCLUDE (cost) FROM read_parquet($file)) TO $out (FORMAT parquet)`, { file, out: `${file}.old` });
    fs.renameSync(`${file}.old`, file);
  }
  conn.closeSync();
  db.closeSync();
}

describe('an archive from before the cost column', () => {
  let config: SigflowConfig;
  let dir: string;
  let redis: RedisClient;
  let keys: StoreKeys;
  // One event per minute: each in its own window.
  const at = (i: number) => T0 + 10 * MINUTE + i * MINUTE + 5 * SECOND;
  const window = (i: number) => T0 + 10 * MINUTE + i * MINUTE;
  const old: ArchivedEvent[] = [
    { event: impression({ id: 'o-i1', ts: at(0), user: 'u1', channel: 'display' }), partition: 0, offset: '0' },
    { event: click({ id: 'o-k1', ts: at(1), user: 'u1', channel: 'display' }), partition: 0, offset: '1' },
  ];
  const current: ArchivedEvent[] = [
    { event: impression({ id: 'n-i1', ts: at(2), user: 'u2', channel: 'display', cost: 3_000 }), partition: 0, offset: '2' },
    { event: click({ id: 'n-k1', ts: at(3), user: 'u2', channel: 'display', cost: 800_000 }), partition: 0, offset: '3' },
  ];

  beforeAll(async () => {
    ({ config, dir } = testConfig('legacy-archive'));
    redis = createRedis(config.redis);
    keys = new StoreKeys(config.redis.keyPrefix);
    await writeArchive(config.archiver.dir, old);
    await dropCostColumn(await listHourFiles(config.archiver.dir, T0));
  });

  afterAll(() => endTestRun({ config, dir, redis }));

  const spendOf = async (version: string) => (await actualHashes(redis, keys, T0, version)).get(`spend:c1:${T0}`);

  it('recomputes an hour whose files all lack the column: clicks count, nothing is spent', async () => {
    const [hour] = (await recomputeHours({ config, redis, from: T0, to: T0 + HOUR, shapley: null, markov: null })).hours;
    expect(await spendOf(hour!.version)).toEqual(new Map([[`${window(1)}\tdisplay\tclicks`, 1]]));
  });

  it('recomputes old and new files together, and compacts them into one file with the column', async () => {
    await writeArchive(config.archiver.dir, current);
    expect(await listHourFiles(config.archiver.dir, T0)).toHaveLength(2);
    const [hour] = (await recomputeHours({ config, redis, from: T0, to: T0 + HOUR, shapley: null, markov: null })).hours;
    const expected = new Map([
      [`${window(1)}\tdisplay\tclicks`, 1],
      [`${window(2)}\tdisplay\tspend`, 3_000],
      [`${window(3)}\tdisplay\tspend`, 800_000],
      [`${window(3)}\tdisplay\tclicks`, 1],
    ]);
    expect(await spendOf(hour!.version)).toEqual(expected);
    const compacted = await compactHour({ context: createBatchContext(config, redis), hour: T0, force: true });
    expect(compacted).toMatchObject({ filesBefore: 2, filesAfter: 1, rows: 4 });
    const [again] = (await recomputeHours({ config, redis, from: T0, to: T0 + HOUR, shapley: null, markov: null })).hours;
    expect(await spendOf(again!.version)).toEqual(expected);
  });
});
