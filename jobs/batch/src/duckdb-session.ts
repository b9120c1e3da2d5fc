import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { BatchConfig } from '@sigflow/config';

export interface DuckDBSessionOptions {
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
  /** e.g. '2GB'; DuckDB spills sorts and joins to a temp directory beyond it. */
  readonly memoryLimit?: string;
  /**
   * Where the session's own spill directory is made (default: the OS temp dir's
   * `sigflow-duckdb`). Each session spills into a new directory of its own, removed on close:
   * DuckDB names its spill files alike in every instance (`duckdb_temp_storage_DEFAULT-0.tmp`),
   * so two batch worker processes spilling into one directory read each other's blocks.
   */
  readonly tempDirectory?: string;
}

/** Removes the spill directories (`<pid>-*`) of sessions whose process is gone (killed before close). */
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
 * One embedded DuckDB (in memory) and one connection, for one job at a time. Tables are
 * temporary: nothing survives the session.
 */
export class DuckDBSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    /** This session's spill directory. */
    readonly spillDirectory: string,
  ) {}

  static async open(options: DuckDBSessionOptions = {}): Promise<DuckDBSession> {
    const base = options.tempDirectory ?? path.join(os.tmpdir(), 'sigflow-duckdb');
    fs.mkdirSync(base, { recursive: true });
    removeDeadSpills(base);
    const spillDirectory = fs.mkdtempSync(path.join(base, `${process.pid}-`));
    const settings: Record<string, string> = {
      threads: String(options.threads ?? os.cpus().length),
      temp_directory: spillDirectory,
      preserve_insertion_order: 'false',
    };
    if (options.memoryLimit) settings['memory_limit'] = options.memoryLimit;
    try {
      const instance = await DuckDBInstance.create(':memory:', settings);
      return new DuckDBSession(instance, await instance.connect(), spillDirectory);
    } catch (cause) {
      fs.rmSync(spillDirectory, { recursive: true, force: true });
      throw cause;
    }
  }

  /** A session with the batch layer's configured threads and memory limit (`batch.duckdb*`). */
  static forBatch(batch: Pick<BatchConfig, 'duckdbThreads' | 'duckdbMemoryLimit'>): Promise<DuckDBSession> {
    return DuckDBSession.open({ threads: batch.duckdbThreads, memoryLimit: batch.duckdbMemoryLimit || undefined });
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    fs.rmSync(this.spillDirectory, { recursive: true, force: true });
  }
}
