// The archive's format: what the archiver writes and the batch layer reads. One place for the
// layout, the columns, sealing, the atomic publish of files, staging, listing and the writer.
export { ArchiveWriter } from './archive-writer.js';
export type { ArchiveWriterOptions } from './archive-writer.js';
export type { WrittenFile, FlushResult, RejectedMessage, DeletedUsers } from './flush-result.js';
export { archiveFileFormat, compactedFileFormat } from './archive-file-format.js';
export { archiveColumns, archiveColumnsDdl, eventJsonStructType, eventOfArchiveRecord, eventsOfColumns } from './archive-columns.js';
export type { ArchiveColumn, ArchivedEvent, ArchivedMessage, ArchiveRecord } from './archive-columns.js';
export { withArchiveColumns } from './legacy-columns.js';
export {
  HOUR_MS,
  hourPartitionPath,
  hourFolder,
  verdictFolder,
  archiveFileName,
  parseArchiveFileName,
  parseHourPartition,
  stagingRoot,
  listHourFiles,
  listRangeFiles,
  listArchiveHours,
} from './archive-layout.js';
export { archiveSealedThrough, isHourSealed } from './sealing.js';
export { landedAtOf, publishFile, StagingArea } from './atomic-file.js';
export { ArchiveWriteError } from './errors.js';
export { openOwnDuckDB } from './own-duckdb.js';
export type { OwnDuckDB, OwnDuckDBOptions } from './own-duckdb.js';
