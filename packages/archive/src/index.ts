// The archive's format: what the archiver writes and the batch layer reads. One place for the
// layout, the columns, sealing, the atomic publish of files, staging, listing and the writer, and
// the storage the files live in (a local folder or an S3 bucket: `src/storage/`).
export { ArchiveWriter } from './archive-writer.js';
export type { ArchiveWriterOptions } from './archive-writer.js';
export type { WrittenFile, FlushResult, RejectedMessage, DeletedUsers } from './flush-result.js';
export { archiveFileFormat, compactedFileFormat } from './archive-file-format.js';
export { archiveColumns, archiveColumnsDdl, eventJsonStructType, eventOfArchiveRecord, eventsOfColumns } from './archive-columns.js';
export type { ArchiveColumn, ArchivedEvent, ArchivedMessage, ArchiveRecord } from './archive-columns.js';
export { withArchiveColumns } from './legacy-columns.js';
export {
  hourPartitionPath,
  hourFolder,
  hourFolderKey,
  hourOfFolderKey,
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
export { ArchiveWriteError, ArchiveFileGoneError, ArchiveStorageError } from './errors.js';
export type { ArchiveStorage, StoredFile, StagedFile, ReadableFile, PublishMode } from './storage/archive-storage.js';
export { LocalArchiveStorage } from './storage/local-storage.js';
// The S3 storage is `@sigflow/archive/s3`, loaded only by a process whose archive is on S3: the
// AWS SDK's modules cost every other process's start 93-118 ms of CPU (an Intel Xeon host).
export type { S3ArchiveOptions } from './storage/s3-storage.js';
export { ArchiveFileCache } from './storage/file-cache.js';
export { openArchiveStorage } from './storage/open-storage.js';
export type { ArchiveStorageSettings, ArchiveStorageUse } from './storage/open-storage.js';
export { replaceUnlessGone } from './storage/replace-unless-gone.js';
export { readableFiles, readableRange, eventFolders, hourFiles } from './storage/readable-files.js';
export { visibleFiles, taggedName, isTaggedName } from './storage/hour-manifest.js';
export { openOwnDuckDB } from './own-duckdb.js';
export type { OwnDuckDB, OwnDuckDBOptions } from './own-duckdb.js';
