// The SQL worker pool with real worker processes: a query past its time limit is interrupted
// and its worker kept; a worker that does not stop (here: frozen with SIGSTOP) is killed after
// the grace and replaced, and the next query runs on a new process; a query waiting for a busy
// pool past its deadline gets 503; closing the pool leaves no process behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlQueries, INTERRUPT_GRACE_MS } from '../src/sql/sql-queries.js';
import { SqlWorkerPool } from '../src/sql/worker-pool.js';
import { SqlWorkerProcess } from '../src/sql/worker-process.js';
import type { SqlRefusal } from '../src/sql/sql-refusal.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('SQL worker pool', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-sql-pool-'));
  const started: SqlWorkerProcess[] = [];
  const pool = new SqlWorkerPool({
    size: 1,
    settings: { archiveRoot: root, threads: 1, memoryMb: 256, tempMb: 64 },
    start: async (settings) => {
      const worker = await SqlWorkerProcess.start(settings);
      started.push(worker);
      return worker;
    },
  });
  const queries = new SqlQueries(pool, 1_500);
  // The quick queries' answers, with a limit a loaded machine's start of a replacement worker
  // (a process, DuckDB) stays well within: the 1.5 s one is for the queries meant to exceed it.
  const patient = new SqlQueries(pool, 30_000);
  const request = (sql: string) => ({ sql, format: 'json' as const, maxRows: 100, readRedisTables: async () => ({}) });
  const run = (sql: string) => queries.run(request(sql));
  const text = async (sql: string) => {
    const answer = await patient.run(request(sql));
    const parts: Buffer[] = [];
    for await (const part of answer.body) parts.push(part as Buffer);
    return JSON.parse(Buffer.concat(parts).toString()) as { rows: unknown[][] };
  };
  afterAll(async () => {
    await pool.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('interrupts a query past its time limit and keeps the worker', async () => {
    await expect(run('SELECT count(*) FROM range(1000000) a, range(1000000) b')).rejects.toMatchObject({ statusCode: 408, message: expect.stringMatching(/interrupted$/) });
    expect((await text('SELECT 41 + 1')).rows).toEqual([[42]]);
    expect(started).toHaveLength(1);
  });

  it('kills and replaces a worker that does not stop', async () => {
    const first = started[0] as SqlWorkerProcess;
    const pid = first.pid as number;
    const t0 = Date.now();
    const frozen = run('SELECT count(*) FROM range(1000000) a, range(1000000) b');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGSTOP');
    const err = (await frozen.catch((e: unknown) => e)) as SqlRefusal;
    expect(err.statusCode).toBe(408);
    expect(err.message).toMatch(/stopped with its worker \(replaced\)/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_500 + INTERRUPT_GRACE_MS - 100);
    await first.gone();
    expect(alive(pid)).toBe(false);
    expect((await text('SELECT 7')).rows).toEqual([[7]]);
    expect(started).toHaveLength(2);
    expect(started[1]?.pid).not.toBe(pid);
  });

  it('answers 503 to a query that waits for a busy pool past its deadline', async () => {
    const busy = run('SELECT count(*) FROM range(1000000) a, range(1000000) b');
    const waiting = await pool.acquire(Date.now() + 200).catch((e: unknown) => e);
    expect(waiting).toMatchObject({ statusCode: 503 });
    await expect(busy).rejects.toMatchObject({ statusCode: 408 });
  });

  it('leaves no process behind when closed', async () => {
    const pids = started.map((w) => w.pid as number);
    await pool.close();
    expect(pids.filter(alive)).toEqual([]);
  });
});
