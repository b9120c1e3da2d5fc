/** Reading the archive with DuckDB failed (missing or corrupt files, out of memory). */
export class ArchiveScanError extends Error {
  override readonly name = 'ArchiveScanError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
