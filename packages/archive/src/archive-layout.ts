import { HOUR_MS } from '@sigflow/core';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The archive's folder layout (DESIGN.md "Archive and batch layer"), relative to the
 * configured archive root:
 * - `events/dt=YYYY-MM-DD/hr=HH/p<partition>-<firstOffset>-<lastOffset>.parquet`: events by
 *   event hour (UTC), one file per (Kafka partition, hour) of each flush;
 * - `views/<view>/dt=YYYY-MM-DD/hr=HH/...parquet`: batch views for analysts (batch layer);
 * - `verdicts/dt=YYYY-MM-DD/hr=HH/<version>.<rules>.parquet`: what the batch layer's rules
 *   decided about each impression and click of a computed hour (its touchpoint verdicts), per
 *   batch version and rules;
 * - `_staging/<host>-<pid>/`: files being written; never read, renamed into `events/` when
 *   complete. Same filesystem as `events/`, so the rename is atomic.
 * - `_reads/<host>--<pid>--<id>/<read>/<folder>/<name>`: hard links to the files a read listed,
 *   so a compaction deleting them does not fail it (`storage/read-holds.ts`; 10 minutes).
 *
 * The same layout holds as keys under an S3 prefix (`S3ArchiveStorage`), where a replaced file's
 * replacement carries a tag (`p<partition>-<first>-<last>.<tag>.parquet`) and each hour folder a
 * `_manifest/` of its replacements (`hour-manifest.ts`).
 */

const two = (n: number) => String(n).padStart(2, '0');

/** `dt=YYYY-MM-DD/hr=HH` of an hour (UTC), the Hive-style partition path. */
export function hourPartitionPath(hourStart: number): string {
  const d = new Date(hourStart);
  return `dt=${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}/hr=${two(d.getUTCHours())}`;
}

/** The folder of the events of one hour. */
export function hourFolder(root: string, hourStart: number): string {
  return path.join(root, 'events', hourPartitionPath(hourStart));
}

/** The folder of one hour's touchpoint verdicts (one file per batch version of the hour). */
export function verdictFolder(root: string, hourStart: number): string {
  return path.join(root, 'verdicts', hourPartitionPath(hourStart));
}

/** The folder key (relative, `/`-separated) of one hour under a tree: `events`, `verdicts`, `views/<view>`. */
export function hourFolderKey(tree: string, hourStart: number): string {
  return `${tree}/${hourPartitionPath(hourStart)}`;
}

/** The hour of a folder key ending in `dt=.../hr=...`; null when it does not. */
export function hourOfFolderKey(folder: string): number | null {
  const parts = folder.split('/');
  return parts.length < 2 ? null : parseHourPartition(parts.at(-2) as string, parts.at(-1) as string);
}

/** The name of one archive file: partition and the first and last Kafka offsets it holds. */
export function archiveFileName(partition: number, firstOffset: string, lastOffset: string): string {
  return `p${partition}-${firstOffset}-${lastOffset}.parquet`;
}

/**
 * Partition and offsets of an archive file name (with or without a replacement's tag, see
 * `hour-manifest.ts`); null when the name is not one.
 */
export function parseArchiveFileName(name: string): { partition: number; firstOffset: bigint; lastOffset: bigint } | null {
  const m = /^p(\d+)-(\d+)-(\d+)(?:\.[0-9a-f]{8})?\.parquet$/.exec(name);
  if (!m) return null;
  return { partition: Number(m[1]), firstOffset: BigInt(m[2] as string), lastOffset: BigInt(m[3] as string) };
}

/** The hour start of a `dt=.../hr=...` folder pair; null when they are not one. */
export function parseHourPartition(dt: string, hr: string): number | null {
  const d = /^dt=(\d{4})-(\d{2})-(\d{2})$/.exec(dt);
  const h = /^hr=(\d{2})$/.exec(hr);
  if (!d || !h) return null;
  return Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(h[1]));
}

/** Root of the staging folders. */
export function stagingRoot(root: string): string {
  return path.join(root, '_staging');
}

/** Parquet files of one hour (absolute paths, sorted by name); none when the folder is missing. */
export async function listHourFiles(root: string, hourStart: number): Promise<string[]> {
  const folder = hourFolder(root, hourStart);
  try {
    const names = await fs.readdir(folder);
    return names
      .filter((n) => n.endsWith('.parquet'))
      .sort()
      .map((n) => path.join(folder, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Parquet files of the hours [from, to) (hour starts), in hour order. */
export async function listRangeFiles(root: string, from: number, to: number): Promise<string[]> {
  const files: string[] = [];
  for (let h = from; h < to; h += HOUR_MS) files.push(...(await listHourFiles(root, h)));
  return files;
}

/** Every hour that has an events folder, sorted. */
export async function listArchiveHours(root: string): Promise<number[]> {
  const base = path.join(root, 'events');
  const hours: number[] = [];
  let days: string[];
  try {
    days = await fs.readdir(base);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  for (const dt of days) {
    let hrs: string[];
    try {
      hrs = await fs.readdir(path.join(base, dt));
    } catch {
      continue;
    }
    for (const hr of hrs) {
      const h = parseHourPartition(dt, hr);
      if (h !== null) hours.push(h);
    }
  }
  return hours.sort((a, b) => a - b);
}
