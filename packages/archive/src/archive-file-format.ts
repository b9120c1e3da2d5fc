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
 *
 * Measured again on a host where this format scans the bench day at 16.1-17.0 M rows/s with 2
 * threads (8.9 M with 1), short of the scan target of 20 M: a perf profile of that scan (1
 * thread) spends 32 % in the query's own aggregates (count 18 %, length 9 %, sum 5 %), 23 % in
 * zstd, 16 % decoding delta-length strings (event, user and IP ids) and 5 % in dictionaries.
 * Other formats of the same rows (2 threads; files of the day): `lz4_raw` 19.1-20.3 M (212 MB
 * against 155 MB); `lz4_raw` with `DICTIONARY_SIZE_LIMIT 50000` (user ids and IPs get
 * dictionaries) 21.4-21.9 M (231 MB, 1.49x) but its writer 235-248 k rows/s against
 * 316-334 k and the archiver from Kafka 177-188 k against 195-197 k; uncompressed 21.7 M
 * (355 MB); zstd with the dictionary limit 17.5 M (182 MB). The recompute, the scan's reader,
 * ran 202,941 / 204,089 events/s over the `lz4_raw` day against 199,704 over this one (the
 * rules, not the decoding, bound it). zstd stays: the faster scans cost 37-49 % more disk for
 * every day kept and gain the batch layer about 2 %.
 *
 * On a third host (2026-11-25; the same bench day, 2 threads, medians of 7 scans, two rounds):
 * this format 14.7-16.4 M rows/s; `lz4_raw` 16.6-17.1 M; `lz4_raw` with the dictionary limit
 * 19.7-20.8 M (232 MB against 156 MB); zstd with the limit 17.1-18.3 M (183 MB); zstd at level -5
 * with the limit 17.9-19.0 M (252 MB); row groups of 30,720 rows 12.8-14.8 M. Even the fastest
 * format sits at the target there, not above it.
 *
 * On a fourth host (2026-11-25, Intel Xeon; the bench day, 2 threads, medians of 7 interleaved
 * scans): this format 17.4 M rows/s (163 MB); `lz4_raw` 20.6 M (223 MB, 1.37x); `lz4_raw` with
 * the dictionary limit 22.0 M (242 MB). `bench:batch` run whole with `lz4_raw` as the format, next
 * to a run with this one: scan 20.2 M against 18.4 M, the writer 368 k against 412 k rows/s, the
 * archiver 201 k against 207 k, the recompute 218 k against 235 k events/s. The scan then sits 1 %
 * above its target and nothing else gains: zstd stays. The bench's profile of the scan (DuckDB's
 * operators) puts the table scan, the archive's read and decode, at 66 % of its CPU, 27.4 M rows/s
 * alone on 2 threads; the rest is the bench query's own projection and aggregates.
 */
export const archiveFileFormat = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION v2';

/**
 * The options of a compacted file's `COPY ... TO` (an hour's files of one Kafka partition merged
 * and sorted by user, ts, event_id; see the batch layer's `compactHour`), of `rows` rows:
 * {@link archiveFileFormat} with dictionaries for the columns whose distinct values in a row group
 * are at most half its rows (half the file's when it is one row group). DuckDB gives a column a
 * dictionary only under `DICTIONARY_SIZE_LIMIT` distinct values (by default few), so user ids and
 * IPs, repeated in every hour, had none, and an event id, unique, never gets one under this limit.
 *
 * On the bench day (96 files of 103-105 k rows; per file about 44 k users and 27 k IPs), 2
 * threads, rewritten with a limit of 100,000 (the same dictionaries there: user ids and IPs;
 * event ids over it): medians of 7 interleaved scans 21.6 M rows/s against 19.6 M, and in
 * `bench:batch` 21.1 M against 19.2 M, with the recompute at 241,145 against 236,909 events/s.
 * Written with this rule, `bench:batch` scanned 20.8-21.8 M. The files are 17 % larger (187 MB
 * against 159 MB: sorted ids compress better as runs of the same string than as a dictionary's
 * indices). The archiver's own files keep {@link archiveFileFormat}: in offset
 * order, a small flush's user ids and event ids repeat little, and a 20,000-row file with this
 * limit took event ids into a dictionary that was 55 % larger than without.
 */
export function compactedFileFormat(rows: number): string {
  return `${archiveFileFormat}, ROW_GROUP_SIZE ${parquetRowGroupRows}, DICTIONARY_SIZE_LIMIT ${Math.max(1, Math.floor(Math.min(rows, parquetRowGroupRows) / 2))}`;
}

/**
 * Rows of a compacted file's Parquet row group (DuckDB's `ROW_GROUP_SIZE` default, stated in the
 * format so the limit below cannot drift from the writer's row groups). A dictionary
 * is a row group's column's, so {@link compactedFileFormat}'s limit is half of one row group's rows
 * at most: with half of a larger file's rows, every column of a row group was under it, unique
 * ones too (event ids, properties), and the writer held all their dictionaries at once: a dense
 * hour of the platform soak (370,000 rows of one partition in 1,213 files) failed its compaction
 * at DuckDB's 768-MB limit ("Out of Memory Error", every attempt), and merged with this cap.
 */
const parquetRowGroupRows = 122_880;
