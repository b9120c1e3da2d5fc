// The archiver's public surface: the service (for tests and embedding) and the archive format,
// which the batch layer reads.
export { Archiver } from './archiver.js';
export type { ArchiverDeps } from './archiver.js';
export { ArchiveWriter } from './archive-writer.js';
export type { WrittenFile, ArchiveWriterOptions, FlushResult, RejectedMessage } from './archive-writer.js';
export { archiveColumns, archiveColumnsDdl, eventJsonStructType, eventOfArchiveRecord, eventsOfColumns } from './archive-columns.js';
export type { ArchiveColumn, ArchivedEvent, ArchivedMessage, ArchiveRecord } from './archive-columns.js';
export {
  HOUR_MS,
  hourPartitionPath,
  hourFolder,
  archiveFileName,
  parseArchiveFileName,
  parseHourPartition,
  stagingRoot,
  listHourFiles,
  listRangeFiles,
  listArchiveHours,
} from './archive-layout.js';
export { publishFile, StagingArea } from './atomic-file.js';
export { ArchiveWriteError } from './errors.js';
