/** Reading the archive with DuckDB failed (missing or corrupt files, out of memory). */
export class ArchiveScanError extends Error {
  override readonly name = 'ArchiveScanError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A rule thread of a recompute pass crashed or exited (the job fails and is retried). */
export class RuleThreadError extends Error {
  override readonly name = 'RuleThreadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
