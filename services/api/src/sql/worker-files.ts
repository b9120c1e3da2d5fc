import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The folder where the worker process `pid` has DuckDB write each query's profile (the only
 * file its sandbox may touch beside the archive and its spill directory).
 */
export function profileDirOf(pid: number): string {
  return path.join(os.tmpdir(), 'sigflow-sql-profile', String(pid));
}

/**
 * Removes what a worker process left in the temp directory once it has exited: its profile
 * folder and its DuckDB spill directories (`openOwnDuckDB`'s `<tmp>/sigflow-duckdb/<pid>-*`). A
 * worker that closes removes them itself; one that was killed cannot.
 */
export function removeWorkerFiles(pid: number): void {
  fs.rmSync(profileDirOf(pid), { recursive: true, force: true });
  const spills = path.join(os.tmpdir(), 'sigflow-duckdb');
  let names: string[] = [];
  try {
    names = fs.readdirSync(spills);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(`${pid}-`)) fs.rmSync(path.join(spills, name), { recursive: true, force: true });
}
