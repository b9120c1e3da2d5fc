import type { Job, Queue } from 'bullmq';
import { readJobAndState, recentJobs } from '@sigflow/batch-jobs';
import { isoHour } from './hour-range.js';
import type { JobProgress } from './recompute-hours.js';

/** Where the CLI writes (tests capture it). */
export interface CliOutput {
  log(line: string): void;
  error(line: string): void;
  /** Rewrites the current line (progress bars); falls back to log. */
  progress?(line: string): void;
}

/** `[#########-----------]  45.0%  9/20 hours  1,234,567 rows` */
export function progressBar(progress: unknown, width = 30): string {
  const p = (typeof progress === 'object' && progress !== null ? progress : { percent: Number(progress) || 0 }) as Partial<JobProgress>;
  const percent = Math.max(0, Math.min(100, Number(p.percent ?? 0)));
  const filled = Math.round((percent / 100) * width);
  const hours = p.hoursTotal !== undefined ? `  ${p.hoursDone ?? 0}/${p.hoursTotal} hours` : '';
  const rows = p.rowsRead !== undefined ? `  ${Number(p.rowsRead).toLocaleString('en-US')} rows` : '';
  // A deletion reports its step instead (delete-user).
  const step = typeof (p as { step?: unknown }).step === 'string' ? `  step ${(p as { step: string }).step}` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.toFixed(1).padStart(5)}%${hours}${rows}${step}`;
}

const time = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function describe(job: Job, state: string): string[] {
  const lines = [
    `job ${job.id}  ${job.name}  ${JSON.stringify(job.data)}`,
    `state ${state}  attempts ${job.attemptsMade}/${job.opts.attempts ?? 1}  created ${time(job.timestamp)}  finished ${time(job.finishedOn)}`,
    progressBar(job.progress),
  ];
  if (job.failedReason) lines.push(`error: ${job.failedReason}`);
  if (state === 'completed' && job.returnvalue !== undefined) lines.push(`result: ${JSON.stringify(job.returnvalue)}`);
  return lines;
}

const finalStates = new Set(['completed', 'failed', 'unknown']);

/** Follows a job with a progress bar until it ends; exit code 0 when it completed. */
export async function watchJob(queue: Queue, id: string, out: CliOutput, intervalMs = 500): Promise<number> {
  for (;;) {
    const read = await readJobAndState(queue, id);
    if (!read) {
      out.error(`job ${id} not found`);
      return 1;
    }
    const { job, state } = read;
    if (finalStates.has(state)) {
      if (out.progress && process.stdout.isTTY) out.log('');
      for (const line of describe(job, state)) out.log(line);
      return state === 'completed' ? 0 : 1;
    }
    (out.progress ?? out.log)(`${progressBar(job.progress)}  ${state}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `jobs reprocess|train|...`: enqueues checked data, then waits for the job or says how to follow it. */
export async function enqueueJob(queue: Queue, kind: string, data: Record<string, unknown>, wait: boolean, out: CliOutput): Promise<number> {
  const job = await queue.add(kind, data);
  const range = typeof data['from'] === 'number' && typeof data['to'] === 'number' ? ` ${isoHour(data['from'])} .. ${isoHour(data['to'])}` : '';
  out.log(`enqueued ${kind}${range} as job ${job.id}`);
  if (wait) return watchJob(queue, String(job.id), out);
  out.log(`follow it with: npm run jobs -- status ${job.id} --watch`);
  return 0;
}

/** `jobs status <id> [--watch]`. */
export async function showStatus(queue: Queue, id: string | undefined, watch: boolean, out: CliOutput): Promise<number> {
  if (!id) {
    out.error('status needs a job id');
    return 2;
  }
  if (watch) return watchJob(queue, id, out);
  const read = await readJobAndState(queue, id);
  if (!read) {
    out.error(`job ${id} not found`);
    return 1;
  }
  for (const line of describe(read.job, read.state)) out.log(line);
  return 0;
}

/**
 * `jobs list [--state s] [--limit n] [--top-level]`: newest first; a recompute's parts end with
 * `part of <parent id>`, and `--top-level` leaves them out.
 */
export async function listJobs(queue: Queue, state: string | undefined, limit: number, out: CliOutput, topLevel = false): Promise<number> {
  const states = state ? [state] : ['active', 'waiting', 'waiting-children', 'delayed', 'completed', 'failed'];
  const jobs = await recentJobs(queue, states as Parameters<Queue['getJobs']>[0], limit, { parts: !topLevel });
  out.log(`${'id'.padEnd(28)} ${'kind'.padEnd(18)} ${'state'.padEnd(10)} ${'progress'.padStart(8)}  created               data`);
  for (const job of jobs.sort((a, b) => b.timestamp - a.timestamp).slice(0, limit)) {
    const p = job.progress as Partial<JobProgress> | number;
    const percent = typeof p === 'object' && p !== null ? Number(p.percent ?? 0) : Number(p) || 0;
    const error = job.failedReason ? `  error: ${job.failedReason}` : '';
    const part = job.parent ? `  part of ${job.parent.id}` : '';
    out.log(
      `${String(job.id).padEnd(28)} ${job.name.padEnd(18)} ${(await job.getState()).padEnd(10)} ${`${percent.toFixed(1)}%`.padStart(8)}  ${time(job.timestamp)}  ${JSON.stringify(job.data)}${error}${part}`,
    );
  }
  if (jobs.length === 0) out.log('(no jobs)');
  return 0;
}

/** `jobs schedules`: the job schedulers and their next run. */
export async function listSchedules(queue: Queue, out: CliOutput): Promise<number> {
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  out.log(`${'scheduler'.padEnd(20)} ${'kind'.padEnd(18)} ${'pattern'.padEnd(16)} next run`);
  for (const s of schedulers) {
    out.log(`${String(s.id ?? s.key).padEnd(20)} ${s.name.padEnd(18)} ${String(s.pattern ?? `every ${s.every} ms`).padEnd(16)} ${time(s.next)}`);
  }
  if (schedulers.length === 0) out.log('(no schedulers: start the batch worker to install them)');
  return 0;
}
