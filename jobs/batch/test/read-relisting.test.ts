import { ArchiveFileGoneError } from '@sigflow/archive';
import { describe, expect, it } from 'vitest';
import { GONE_FILE_RELISTS, readRelisting } from '../src/archive-scan.js';
import { ArchiveScanError } from '../src/errors.js';

// DuckDB's own words for a listed file that is gone: before its glob, and once it opens it.
const gone = [
  'IO Error: No files found that match the pattern "/archive/events/dt=2026-11-20/hr=11/p0-257-457.parquet"',
  'IO Error: Cannot open file "/archive/events/dt=2026-11-20/hr=11/p0-257-457.parquet": No such file or directory',
];
const scanError = (message: string) => new ArchiveScanError(`reading 4 archive files failed: ${message}`, { cause: new Error(message) });

describe('readRelisting: a read of archive files whose listed file was gone when read', () => {
  it.each(gone)('lists and reads again after "%s", resetting first', async (message) => {
    const calls: string[] = [];
    let reads = 0;
    const answer = await readRelisting(
      async () => {
        calls.push('read');
        if (++reads < 3) throw scanError(message);
        return 'rows';
      },
      async () => void calls.push('reset'),
    );
    expect(answer).toBe('rows');
    expect(calls).toEqual(['read', 'reset', 'read', 'reset', 'read']);
  });

  it("leaves the listing's own ArchiveFileGoneError to it: readableFiles already paused and listed again", async () => {
    let reads = 0;
    const read = async () => {
      if (++reads < 2) throw new ArchiveFileGoneError('/archive/events/dt=2026-11-29/hr=01/p4-437772-437837.parquet');
      return 'rows';
    };
    await expect(readRelisting(read)).rejects.toBeInstanceOf(ArchiveFileGoneError);
    expect(reads).toBe(1);
  });

  it(`gives up after ${GONE_FILE_RELISTS} new listings, with the last error`, async () => {
    let reads = 0;
    const read = async () => {
      reads++;
      throw scanError(gone[0]!);
    };
    await expect(readRelisting(read)).rejects.toThrow(/No files found/);
    expect(reads).toBe(1 + 3);
  });

  it('does not read again after any other failure', async () => {
    let reads = 0;
    const failures = [scanError('IO Error: Invalid Input Error: no magic bytes'), new Error('No files found that match the pattern "x"')];
    for (const failure of failures) {
      await expect(
        readRelisting(async () => {
          reads++;
          throw failure;
        }),
      ).rejects.toBe(failure);
    }
    expect(reads).toBe(2);
  });
});
