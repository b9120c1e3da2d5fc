import { HOUR_MS } from '@sigflow/core';
import parquet from 'parquetjs-lite';
import { eventFolders, readableFiles, type ArchiveStorage } from '@sigflow/archive';

/** What the archive holds for a range of whole hours. */
export interface ArchiveCoverage {
  /** Hours in the range. */
  readonly hours: number;
  /** Hours with at least one archive file. */
  readonly archivedHours: number;
  readonly files: number;
  /** Rows of those files (copies included: the archive is at-least-once), from their Parquet footers. */
  readonly rows: number;
}

/** The row count in one Parquet file's footer (the file's data is not read). */
async function footerRows(file: string): Promise<number> {
  const reader = await parquet.ParquetEnvelopeReader.openFile(file);
  try {
    const metadata = await reader.readFooter();
    return Number(metadata.num_rows);
  } finally {
    await reader.close();
  }
}

/**
 * The archive's files and rows of the hours [from, to) (hour starts): what a reprocess of that
 * range will read. Footers only, a few files at a time (on S3, of the copies in this process's cache).
 */
export async function archiveCoverage(archive: ArchiveStorage, from: number, to: number): Promise<ArchiveCoverage> {
  let archivedHours = 0;
  let files = 0;
  let rows = 0;
  for (let hour = from; hour < to; hour += HOUR_MS) {
    const paths = (await readableFiles(archive, eventFolders(hour, hour + HOUR_MS))).map((f) => f.path);
    if (paths.length === 0) continue;
    archivedHours++;
    files += paths.length;
    for (let i = 0; i < paths.length; i += 8) {
      const counts = await Promise.all(paths.slice(i, i + 8).map(footerRows));
      rows += counts.reduce((a, n) => a + n, 0);
    }
  }
  return { hours: Math.round((to - from) / HOUR_MS), archivedHours, files, rows };
}
