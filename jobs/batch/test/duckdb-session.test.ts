import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDBSession } from '../src/duckdb-session.js';

// Sorting 1 M rows of 64-character keys is beyond a 32 MB limit: the sort spills (6 spill files
// in DuckDB 1.5's temporary directory, watched while it ran; 3 M rows under 64 MB took 3 times as long).
const rows = 1_000_000;
const spillingSort = `
  SELECT count(*)::DOUBLE AS n, sum(x)::DOUBLE AS total, bool_and(ok) AS sorted
  FROM (SELECT x, coalesce(lag(s) OVER (ORDER BY s) <= s, true) AS ok
        FROM (SELECT x, md5(x::VARCHAR) || md5((x + 1)::VARCHAR) AS s FROM range(${rows}) t(x)))`;

describe('DuckDBSession spill directories', () => {
  const bases: string[] = [];
  const newBase = () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-spill-test-'));
    bases.push(base);
    return base;
  };
  afterEach(() => {
    for (const base of bases.splice(0)) fs.rmSync(base, { recursive: true, force: true });
  });

  it('two sessions spilling at once under one temp directory each read their own blocks', async () => {
    // Both in one directory, DuckDB's same-named spill files made one of them fail with
    // "Could not read enough bytes from file .../duckdb_temp_storage_S64K-0.tmp" (two batch
    // worker processes recomputing parts did the same).
    const base = newBase();
    const sessions = await Promise.all([0, 1].map(() => DuckDBSession.open({ threads: 1, memoryLimit: '32MB', tempDirectory: base })));
    try {
      expect(sessions[0]?.spillDirectory).not.toBe(sessions[1]?.spillDirectory);
      for (const s of sessions) expect(path.dirname(s.spillDirectory)).toBe(base);
      const results = await Promise.all(sessions.map(async (s) => (await s.connection.runAndReadAll(spillingSort)).getRowsJS()[0]));
      // Every row once, in order: n rows, 0 + 1 + ... + (n - 1).
      for (const r of results) expect(r).toEqual([rows, (rows * (rows - 1)) / 2, true]);
    } finally {
      for (const s of sessions) s.close();
    }
    expect(fs.readdirSync(base)).toEqual([]);
  }, 60_000);

  it('a session removes the spill directories of processes that are gone', async () => {
    const base = newBase();
    // A pid that existed and exited: its directory is left as a killed worker leaves it.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.mkdirSync(path.join(base, `${dead}-abc123`));
    fs.mkdirSync(path.join(base, `${process.ppid}-live`));
    const session = await DuckDBSession.open({ threads: 1, tempDirectory: base });
    try {
      expect(fs.readdirSync(base).sort()).toEqual([`${process.ppid}-live`, path.basename(session.spillDirectory)].sort());
    } finally {
      session.close();
    }
  });
});
