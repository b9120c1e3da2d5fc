/**
 * The options of every archive file's `COPY ... TO` (archiver flushes, compaction, a person's
 * erasure): Parquet with zstd and the format's version 2 encodings (delta-packed integers,
 * delta-length strings, RLE dictionaries). Against version 1 (plain integers and strings), on a
 * simulated day of 10 M events (96 files, 2 shared cores, medians of 7 interleaved scans of
 * every column the recompute reads): 1.40x faster with 1 DuckDB thread and 1.38x with 2, and
 * the files 10-13 % smaller. Writing costs about the same: a bare COPY of 835 k rows 586 k
 * rows/s against 577 k; the archiver bench's writer 88 k against 98 k rows/s and the archiver
 * from Kafka 78 k against 80 k (medians of three interleaved pairs on a loaded host, pair
 * ratios 0.73-1.16: within its noise). `lz4_raw` with version 2 scans another 1.13-1.22x faster and writes
 * 1.24x faster, but its files are 30-48 % larger than zstd's: not the default for an archive
 * kept 90 days. Every reader is DuckDB, which reads both versions (older files stay as written
 * until compaction or an erasure rewrites them).
 *
 * zstd at level 1 rather than DuckDB's default (3): the same simulated day rewritten both ways
 * scans at 20.8 M rows/s against 19.8 M with 2 threads (10.8 M against 10.3 M with 1; medians of
 * 7 and 5 interleaved scans) and its files are 5 % smaller (156 MB against 164 MB: the level
 * changes little on these columns, mostly delta-packed integers and UUID strings). Raising the
 * dictionary limits so that user ids and IPs get dictionaries made the files twice as large and
 * the scan 1.26x slower (not kept).
 */
export const archiveFileFormat = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION v2';
