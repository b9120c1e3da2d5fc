import { SqlRefusal } from './sql-refusal.js';

/** DuckDB's errors that leave the database unusable: the worker is replaced. */
export function invalidatesDatabase(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /^(INTERNAL|FATAL) Error/i.test(message) || message.includes('database has been invalidated');
}

/**
 * The answer to a DuckDB error of an analyst's query: interrupted (the time limit) 408, out of
 * memory or spill space 413, an engine failure 500, anything else (syntax, names, types, files
 * the sandbox does not open) 400 with DuckDB's message.
 */
export function refusalOf(err: unknown): SqlRefusal {
  if (err instanceof SqlRefusal) return err;
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 2_000);
  if (/^INTERRUPT Error/i.test(message)) return new SqlRefusal(408, 'the query was interrupted: it ran past the time limit');
  if (/^Out of Memory Error/i.test(message) || /max_temp_directory_size/i.test(message)) {
    return new SqlRefusal(413, `the query needs more memory or spill space than the sandbox allows (filter, aggregate or narrow it): ${message}`);
  }
  if (invalidatesDatabase(err)) return new SqlRefusal(500, `the query engine failed: ${message}`);
  if (/^Permission Error/i.test(message)) return new SqlRefusal(400, `${message} (the sandbox reads only the archive and the batch views)`, 'sql');
  return new SqlRefusal(400, message, 'sql');
}
