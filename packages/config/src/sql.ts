import type { EnvReader } from './env.js';

/**
 * Analysts' SQL (`POST /v1/sql`): the sandbox worker processes each API process keeps, what
 * each query may use of them, and how many rows an answer may hold. Each field names its
 * variable and default.
 */
export interface SqlConfig {
  /**
   * Worker processes per API process (`SIGFLOW_SQL_WORKERS`, 2), started at the first query:
   * each runs one query at a time in a DuckDB of its own, never in the API process.
   */
  readonly workers: number;
  /** DuckDB threads of each worker (`SIGFLOW_SQL_THREADS`, 2). */
  readonly threads: number;
  /** DuckDB memory limit of each worker, MiB (`SIGFLOW_SQL_MEMORY_MB`, 1024); a query that needs more is answered 413. */
  readonly memoryMb: number;
  /** Spill space of each worker, MiB (`SIGFLOW_SQL_TEMP_MB`, 2048); a query that needs more is answered 413. */
  readonly tempMb: number;
  /**
   * Time a query may run (`SIGFLOW_SQL_TIMEOUT_MS`, 30000), answered 408 past it: the worker
   * interrupts the query, and a worker that has not stopped 2 s later is killed and replaced.
   * A query waits at most this long for a free worker too (503 past it).
   */
  readonly timeoutMs: number;
  /** Rows an answer may hold at most (`SIGFLOW_SQL_MAX_ROWS`, 100000); a larger result is answered 413. A request may ask for fewer. */
  readonly maxRows: number;
  /** Queries one API key may run at once, per API process (`SIGFLOW_SQL_QUERIES_PER_KEY`, 1); more are answered 429. */
  readonly queriesPerKey: number;
}

/** Reads {@link SqlConfig}. */
export function sqlConfig(r: EnvReader): SqlConfig {
  return {
    workers: r.int('SIGFLOW_SQL_WORKERS', 2, 1, 64),
    threads: r.int('SIGFLOW_SQL_THREADS', 2, 1, 256),
    memoryMb: r.int('SIGFLOW_SQL_MEMORY_MB', 1_024, 64, 1_048_576),
    tempMb: r.int('SIGFLOW_SQL_TEMP_MB', 2_048, 0, 16_777_216),
    timeoutMs: r.int('SIGFLOW_SQL_TIMEOUT_MS', 30_000, 100, 3_600_000),
    maxRows: r.int('SIGFLOW_SQL_MAX_ROWS', 100_000, 1, 10_000_000),
    queriesPerKey: r.int('SIGFLOW_SQL_QUERIES_PER_KEY', 1, 1, 64),
  };
}
