/** A flush could not be written to the archive; its events stay buffered and uncommitted. */
export class ArchiveWriteError extends Error {
  override readonly name = 'ArchiveWriteError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
