import type { DuckDBConnection } from '@duckdb/node-api';
import { openOwnDuckDB, type OwnDuckDB, type OwnDuckDBOptions } from '@sigflow/archive';
import type { BatchConfig } from '@sigflow/config';

/** How to open a {@link DuckDBSession}: `@sigflow/archive`'s {@link OwnDuckDBOptions} (threads, memory limit, spill base). */
export type DuckDBSessionOptions = Omit<OwnDuckDBOptions, 'preserveInsertionOrder'>;

/**
 * One embedded DuckDB (in memory, spilling into a directory of its own) and one connection, for
 * one job at a time. Tables are temporary: nothing survives the session. Row order is only what
 * a query's ORDER BY says (`preserve_insertion_order` off).
 */
export class DuckDBSession {
  private constructor(
    private readonly db: OwnDuckDB,
    readonly connection: DuckDBConnection,
  ) {}

  /** This session's spill directory. */
  get spillDirectory(): string {
    return this.db.spillDirectory;
  }

  static async open(options: DuckDBSessionOptions = {}): Promise<DuckDBSession> {
    const db = await openOwnDuckDB({ ...options, preserveInsertionOrder: false });
    try {
      return new DuckDBSession(db, await db.instance.connect());
    } catch (cause) {
      db.close();
      throw cause;
    }
  }

  /** A session with the batch layer's configured threads and memory limit (`batch.duckdb*`). */
  static forBatch(batch: Pick<BatchConfig, 'duckdbThreads' | 'duckdbMemoryLimit'>): Promise<DuckDBSession> {
    return DuckDBSession.open({ threads: batch.duckdbThreads, memoryLimit: batch.duckdbMemoryLimit || undefined });
  }

  close(): void {
    this.connection.closeSync();
    this.db.close();
  }
}
