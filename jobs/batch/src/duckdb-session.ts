import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { BatchConfig } from '@sigflow/config';

export interface DuckDBSessionOptions {
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
  /** e.g. '2GB'; DuckDB spills sorts and joins to `tempDirectory` beyond it. */
  readonly memoryLimit?: string;
  readonly tempDirectory?: string;
}

/**
 * One embedded DuckDB (in memory) and one connection, for one job at a time. Tables are
 * temporary: nothing survives the session.
 */
export class DuckDBSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: DuckDBSessionOptions = {}): Promise<DuckDBSession> {
    const settings: Record<string, string> = {
      threads: String(options.threads ?? os.cpus().length),
      temp_directory: options.tempDirectory ?? path.join(os.tmpdir(), 'sigflow-duckdb'),
      preserve_insertion_order: 'false',
    };
    if (options.memoryLimit) settings['memory_limit'] = options.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', settings);
    return new DuckDBSession(instance, await instance.connect());
  }

  /** A session with the batch layer's configured threads and memory limit (`batch.duckdb*`). */
  static forBatch(batch: Pick<BatchConfig, 'duckdbThreads' | 'duckdbMemoryLimit'>): Promise<DuckDBSession> {
    return DuckDBSession.open({ threads: batch.duckdbThreads, memoryLimit: batch.duckdbMemoryLimit || undefined });
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
