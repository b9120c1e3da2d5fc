import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** How to open an {@link OwnDuckDB}. */
export interface OwnDuckDBOptions {
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
  /** e.g. '2GB'; DuckDB spills sorts and joins to its temp directory beyond it. */
  readonly memoryLimit?: string;
  /**
   * Where the instance's own spill directory is made (default: the OS temp dir's
   * `sigflow-duckdb`). DuckDB names its spill files alike in every instance
   * (`duckdb_temp_storage_DEFAULT-0.tmp`), and an in-memory instance spills into `.tmp` of the
   * working directory by default: two processes spilling into one directory read each other's
   * blocks. So each instance spills into a new directory of its own, removed on close.
   */
  readonly tempDirectory?: string;
  /** DuckDB's `preserve_insertion_order` (default true, DuckDB's own); false lets it reorder rows of queries without ORDER BY. */
  readonly preserveInsertionOrder?: boolean;
}

/** An in-memory DuckDB instance with a spill directory of its own (see {@link OwnDuckDBOptions}). */
export interface OwnDuckDB {
  readonly instance: DuckDBInstance;
  readonly spillDirectory: string;
  /** Closes the instance and removes its spill directory. */
  close(): void;
}

/** Removes the spill directories (`<pid>-*`) of instances whose process is gone (killed before close). */
function removeDeadSpills(base: string): void {
  for (const name of fs.readdirSync(base)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(path.join(base, name), { recursive: true, force: true });
    }
  }
}

/**
 * Opens an in-memory DuckDB that spills into a new directory `<base>/<pid>-XXXXXX`, after
 * removing those that processes killed before closing theirs left behind. Every DuckDB of the
 * platform (archive writer, batch sessions, the API's person export) is opened here.
 */
export async function openOwnDuckDB(options: OwnDuckDBOptions = {}): Promise<OwnDuckDB> {
  const base = options.tempDirectory ?? path.join(os.tmpdir(), 'sigflow-duckdb');
  fs.mkdirSync(base, { recursive: true });
  removeDeadSpills(base);
  const spillDirectory = fs.mkdtempSync(path.join(base, `${process.pid}-`));
  const settings: Record<string, string> = {
    threads: String(options.threads ?? os.cpus().length),
    temp_directory: spillDirectory,
    preserve_insertion_order: String(options.preserveInsertionOrder ?? true),
    // DuckDB allocates its blocks with the jemalloc inside libduckdb, which gives freed pages back
    // to the OS only when it allocates again, unless its background thread purges them (after 5 s
    // of decay). Without it a process idle after a query kept what the query freed: a batch
    // worker held 1.0-1.5 GB between recomputes, the next one's peak on top (README, "The batch
    // layer's memory"). A setting of the process's allocator, not of this instance.
    allocator_background_threads: 'true',
  };
  if (options.memoryLimit) settings['memory_limit'] = options.memoryLimit;
  try {
    const instance = await DuckDBInstance.create(':memory:', settings);
    return {
      instance,
      spillDirectory,
      close: () => {
        instance.closeSync();
        fs.rmSync(spillDirectory, { recursive: true, force: true });
      },
    };
  } catch (cause) {
    fs.rmSync(spillDirectory, { recursive: true, force: true });
    throw cause;
  }
}
