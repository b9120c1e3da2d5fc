import { ArchiveFileGoneError } from '../errors.js';
import type { ArchiveStorage, StagedFile, StoredFile } from './archive-storage.js';

/**
 * Replaces `removed` by `added` in `folder` (`ArchiveStorage.replace`); false when one of them
 * was replaced meanwhile by another writer (on S3, its manifest came first and this one is
 * void): its version stands, and the caller looks at the folder again.
 */
export async function replaceUnlessGone(storage: ArchiveStorage, folder: string, removed: readonly StoredFile[], added: readonly StagedFile[]): Promise<boolean> {
  try {
    await storage.replace(folder, removed, added);
    return true;
  } catch (err) {
    if (err instanceof ArchiveFileGoneError) return false;
    throw err;
  }
}
