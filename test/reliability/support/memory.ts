// Memory of service processes over a long run: RSS read from /proc (a process, or a process and
// its children: a collector's or an API's primary and workers), and the series' statistics the
// load run and the soak report (medians, least-squares slopes).
import fs from 'node:fs';

export const MIB = 1024 * 1024;

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A process's resident set in bytes (NaN when it is gone or unknown). */
export function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** RSS of a process and of each of its children (a cluster's primary and its workers), in bytes, the process first. */
export function processTreeRssBytes(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children listed (or gone)
  }
  return [pid, ...children].map(rssBytes);
}

/** RSS of a process and its children together. */
export function treeRssBytes(pid: number | undefined): number {
  return pid === undefined ? NaN : processTreeRssBytes(pid).reduce((sum, rss) => sum + rss, 0);
}

export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Least-squares slope of a series, per minute (t in seconds). */
export function slopePerMinute(points: readonly { t: number; v: number }[]): number {
  const pts = points.filter((p) => Number.isFinite(p.v));
  if (pts.length < 2) return NaN;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const mv = pts.reduce((a, p) => a + p.v, 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0);
  const den = pts.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return round((num / den) * 60);
}
