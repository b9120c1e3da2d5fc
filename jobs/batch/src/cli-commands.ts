import { parseArgs } from 'node:util';
import type { Job, Queue } from 'bullmq';
import type { SigflowConfig } from '@sigflow/config';
import { defaultBatchOptions } from './batch-context.js';
import { bullConnection, createBatchQueue } from './batch-queue.js';
import { InvalidJobDataError } from './errors.js';
import { isoHour } from './hour-range.js';
import { parseJobRequest, type JobKind } from './job-kinds.js';
import type { JobProgress } from './recompute-hours.js';

const usage = `Usage: npm run jobs -- <command> [options]

Commands:
  reprocess --from <time> --to <time> [--wait]   recompute the hours [from, to)
  train [--from <time>] [--to <time>] [--wait]   retrain Shapley + Markov (default: trailing 28 days)
  reconcile --from <time> --to <time> [--wait]   refresh batch-vs-speed changes of those hours
  compact --hour <time> [--force] [--wait]       merge the small archive files of a sealed hour
  recompute-dirty [--wait]                       recompute every dirty hour now
  list [--state <state>] [--limit <n>]           recent jobs (states: waiting, active, delayed, completed, failed)
  status <id> [--watch]                          one job with a progress bar (--watch: until it ends)
  schedules                                      the job schedulers and their next run

Times: ISO (2026-11-20T10:00Z) or ms since the epoch.`;

/** Where the CLI writes (tests capture it). */
export interface CliOutput {
  log(line: string): void;
  error(line: string): void;
  /** Rewrites the current line (progress bars); falls back to log. */
  progress?(line: string): void;
}

const consoleOutput: CliOutput = {
  log: (l) => console.log(l),
  error: (l) => console.error(l),
  progress: (l) => {
    if (process.stdout.isTTY) process.stdout.write(`\r${l}`);
    else console.log(l);
  },
};

/** `[#########-----------]  45.0%  9/20 hours  1,234,567 rows` */
export function progressBar(progress: unknown, width = 30): string {
  const p = (typeof progress === 'object' && progress !== null ? progress : { percent: Number(progress) || 0 }) as Partial<JobProgress>;
  const percent = Math.max(0, Math.min(100, Number(p.percent ?? 0)));
  const filled = Math.round((percent / 100) * width);
  const hours = p.hoursTotal !== undefined ? `  ${p.hoursDone ?? 0}/${p.hoursTotal} hours` : '';
  const rows = p.rowsRead !== undefined ? `  ${Number(p.rowsRead).toLocaleString('en-US')} rows` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent.toFixed(1).padStart(5)}%${hours}${rows}`;
}

const time = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

async function describe(job: Job): Promise<string[]> {
  const state = await job.getState();
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

async function watch(queue: Queue, id: string, out: CliOutput, intervalMs = 500): Promise<number> {
  for (;;) {
    const job = await queue.getJob(id);
    if (!job) {
      out.error(`job ${id} not found`);
      return 1;
    }
    const state = await job.getState();
    if (finalStates.has(state)) {
      if (out.progress && process.stdout.isTTY) out.log('');
      for (const line of await describe(job)) out.log(line);
      return state === 'completed' ? 0 : 1;
    }
    (out.progress ?? out.log)(`${progressBar(job.progress)}  ${state}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Runs one CLI command against the batch queue; returns the exit code. Job data is checked with
 * the worker's own validation before anything is enqueued.
 */
export async function runCli(argv: readonly string[], config: SigflowConfig, out: CliOutput = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out.log(usage);
    return command ? 0 : 2;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        hour: { type: 'string' },
        force: { type: 'boolean' },
        wait: { type: 'boolean' },
        watch: { type: 'boolean' },
        state: { type: 'string' },
        limit: { type: 'string' },
      },
    }));
  } catch (err) {
    out.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const enqueueKinds: Record<string, JobKind> = {
    reprocess: 'recompute',
    train: 'train-attribution',
    reconcile: 'reconcile',
    compact: 'compact',
    'recompute-dirty': 'recompute-dirty',
  };
  const known = [...Object.keys(enqueueKinds), 'list', 'status', 'schedules'];
  if (!known.includes(command)) {
    out.error(`unknown command "${command}"\n\n${usage}`);
    return 2;
  }

  let data: Record<string, unknown> = {};
  const kind = enqueueKinds[command];
  if (kind) {
    for (const f of ['from', 'to', 'hour'] as const) if (values[f] !== undefined) data[f] = values[f];
    if (values['force']) data['force'] = true;
    try {
      const request = parseJobRequest(kind, data);
      // Store normalized times: the job shows what will be computed.
      const { kind: _kind, ...normalized } = request;
      data = normalized;
    } catch (err) {
      if (err instanceof InvalidJobDataError) {
        out.error(err.message);
        return 2;
      }
      throw err;
    }
  }

  const connection = bullConnection(config);
  const queue = createBatchQueue(config, defaultBatchOptions(config), connection);
  try {
    if (kind) {
      const job = await queue.add(kind, data);
      const range =
        typeof data['from'] === 'number' && typeof data['to'] === 'number' ? ` ${isoHour(data['from'])} .. ${isoHour(data['to'])}` : '';
      out.log(`enqueued ${kind}${range} as job ${job.id}`);
      if (values['wait']) return await watch(queue, String(job.id), out);
      out.log(`follow it with: npm run jobs -- status ${job.id} --watch`);
      return 0;
    }
    if (command === 'status') {
      const id = positionals[0];
      if (!id) {
        out.error('status needs a job id');
        return 2;
      }
      if (values['watch']) return await watch(queue, id, out);
      const job = await queue.getJob(id);
      if (!job) {
        out.error(`job ${id} not found`);
        return 1;
      }
      for (const line of await describe(job)) out.log(line);
      return 0;
    }
    if (command === 'list') {
      const states = values['state'] ? [String(values['state'])] : ['active', 'waiting', 'delayed', 'completed', 'failed'];
      const limit = Number(values['limit'] ?? 20);
      const jobs = await queue.getJobs(states as Parameters<Queue['getJobs']>[0], 0, Math.max(1, limit) - 1, false);
      out.log(`${'id'.padEnd(28)} ${'kind'.padEnd(18)} ${'state'.padEnd(10)} ${'progress'.padStart(8)}  created               data`);
      for (const job of jobs.sort((a, b) => b.timestamp - a.timestamp).slice(0, limit)) {
        const state = await job.getState();
        const p = job.progress as Partial<JobProgress> | number;
        const percent = typeof p === 'object' && p !== null ? Number(p.percent ?? 0) : Number(p) || 0;
        out.log(
          `${String(job.id).padEnd(28)} ${job.name.padEnd(18)} ${state.padEnd(10)} ${`${percent.toFixed(1)}%`.padStart(8)}  ${time(job.timestamp)}  ${JSON.stringify(job.data)}${job.failedReason ? `  error: ${job.failedReason}` : ''}`,
        );
      }
      if (jobs.length === 0) out.log('(no jobs)');
      return 0;
    }
    // schedules
    const schedulers = await queue.getJobSchedulers(0, -1, true);
    out.log(`${'scheduler'.padEnd(20)} ${'kind'.padEnd(18)} ${'pattern'.padEnd(16)} next run`);
    for (const s of schedulers) {
      out.log(`${String(s.id ?? s.key).padEnd(20)} ${s.name.padEnd(18)} ${String(s.pattern ?? `every ${s.every} ms`).padEnd(16)} ${time(s.next)}`);
    }
    if (schedulers.length === 0) out.log('(no schedulers: start the batch worker to install them)');
    return 0;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
