/** A flush could not be written to the archive; its events stay buffered and uncommitted. */
export class ArchiveWriteError extends Error {
  override readonly name = 'ArchiveWriteError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A listed archive file was replaced (compacted, rewritten) before it was read: list its folder again. */
export class ArchiveFileGoneError extends Error {
  override readonly name = 'ArchiveFileGoneError';
  constructor(readonly file: string) {
    super(`${file} was replaced after it was listed`);
  }
}

/** The archive's object storage refused or failed a request (after the client's retries). */
export class ArchiveStorageError extends Error {
  override readonly name = 'ArchiveStorageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
