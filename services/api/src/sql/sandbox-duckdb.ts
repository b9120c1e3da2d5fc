import fs from 'node:fs';
import path from 'node:path';
import { LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { openOwnDuckDB, type OwnDuckDB } from '@sigflow/archive';
import { profileDirOf } from './worker-files.js';
import { globVariables, readableFolders, SandboxViews } from './sandbox-views.js';

/** What a sandbox is opened with (the worker's `init` message). */
export interface SandboxSettings {
  /** The archive root: `events/`, `views/` and `verdicts/` below it are all the sandbox reads. */
  readonly archiveRoot: string;
  readonly threads: number;
  readonly memoryMb: number;
  readonly tempMb: number;
}

/** A locked DuckDB for analysts' queries, the views of the catalogue, the profile of the last query. */
export interface Sandbox {
  readonly conn: DuckDBConnection;
  readonly views: SandboxViews;
  /** Where DuckDB writes the JSON profile of each SELECT (the only other file it may touch). */
  readonly profileFile: string;
  close(): void;
}

/**
 * Profiled metrics: per operator its type, rows out and extra info (a Parquet scan's "Total
 * Files Read"), and the query's latency. Fewer metrics than DuckDB's default, so profiling
 * costs less.
 */
const profiledMetrics = JSON.stringify({ OPERATOR_TYPE: 'true', OPERATOR_CARDINALITY: 'true', EXTRA_INFO: 'true', LATENCY: 'true' });

/**
 * The sandbox's settings, applied in this order (DuckDB's "Securing DuckDB" page):
 * 1. resources: threads and memory when the instance is made, then spill space;
 * 2. extensions: none is installed or loaded automatically, no community extension (parquet,
 *    json and icu are built in);
 * 3. files: `allowed_directories` the archive's three folders and `allowed_paths` the profile
 *    file (DuckDB adds its own spill directory); then `enable_external_access = false`, which
 *    closes every other file, the network, ATTACH, INSTALL and LOAD, and cannot be undone;
 * 4. `lock_configuration = true`: no SET, RESET or PRAGMA may change a setting after this.
 * The catalogue's views and tables are made before 3 and 4, and remade after (not settings).
 */
async function lockDown(conn: DuckDBConnection, settings: SandboxSettings, profileFile: string): Promise<void> {
  const lists = (values: string[]) => ({ values: listValue(values) });
  await conn.run('SET max_temp_directory_size = $size', { size: `${settings.tempMb}MiB` });
  await conn.run('SET autoinstall_known_extensions = false');
  await conn.run('SET autoload_known_extensions = false');
  await conn.run('SET allow_community_extensions = false');
  await conn.run("SET enable_profiling = 'json'");
  await conn.run('SET profiling_output = $file', { file: profileFile });
  await conn.run('SET custom_profiling_settings = $metrics', { metrics: profiledMetrics });
  await conn.run('SET allowed_directories = $values', lists(readableFolders(settings.archiveRoot)), { values: LIST(VARCHAR) });
  await conn.run('SET allowed_paths = $values', lists([profileFile]), { values: LIST(VARCHAR) });
  await conn.run('SET enable_external_access = false');
  await conn.run('SET lock_configuration = true');
}

/** Opens a sandbox over the archive at `settings.archiveRoot`. */
export async function openSandbox(settings: SandboxSettings): Promise<Sandbox> {
  const root = path.resolve(settings.archiveRoot);
  const db: OwnDuckDB = await openOwnDuckDB({ threads: settings.threads, memoryLimit: `${settings.memoryMb}MiB` });
  const profileDir = profileDirOf(process.pid);
  fs.mkdirSync(profileDir, { recursive: true });
  const profileFile = path.join(profileDir, 'last-query.json');
  const conn = await db.instance.connect();
  try {
    for (const [name, glob] of Object.entries(globVariables(root))) await conn.run(`SET VARIABLE ${name} = $glob`, { glob });
    const views = new SandboxViews(root);
    await views.createRedisTables(conn);
    await views.refresh(conn);
    await lockDown(conn, { ...settings, archiveRoot: root }, profileFile);
    return {
      conn,
      views,
      profileFile,
      close: () => {
        conn.closeSync();
        db.close();
        fs.rmSync(profileDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    conn.closeSync();
    db.close();
    fs.rmSync(profileDir, { recursive: true, force: true });
    throw err;
  }
}
