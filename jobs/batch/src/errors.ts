/**
 * A job's data cannot be run (missing or malformed fields, an empty or inverted range). The
 * worker fails such a job at once, without retries: running it again cannot succeed.
 */
export class InvalidJobDataError extends Error {
  override readonly name = 'InvalidJobDataError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Reading the archive with DuckDB failed (missing or corrupt files, out of memory). */
export class ArchiveScanError extends Error {
  override readonly name = 'ArchiveScanError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
