import os from 'node:os';
import { parseArgs } from 'node:util';
import type { SigflowConfig } from '@sigflow/config';
import { bullConnection, InvalidJobDataError, jobDataOf, openBatchQueue, parseJobRequest, requestDeletion, requesterPattern, type JobKind } from '@sigflow/batch-jobs';
import type { Queue } from 'bullmq';
import type { RedisClient } from '@sigflow/store';
import { createLogger } from '@sigflow/observability';
import { OpsLog } from '@sigflow/ops-log';
import { enqueueJob, listJobs, listSchedules, showStatus, watchJob, type CliOutput } from './cli-views.js';
import { migrate } from './migrate.js';

const usage = `Usage: npm run jobs -- <command> [options]

Commands:
  reprocess --from <time> --to <time> [--wait]   recompute the hours [from, to)
  train [--from <time>] [--to <time>] [--wait]   retrain Shapley + Markov (default: trailing 28 days)
  reconcile --from <time> --to <time> [--wait]   refresh batch-vs-speed changes of those hours
  compact --hour <time> [--force] [--wait]       merge the small archive files of a sealed hour
  recompute-dirty [--wait]                       recompute every dirty hour now
  enforce-retention [--wait]                     remove archive hours older than SIGFLOW_RETENTION_MS now
  delete-user --user <id> [--wait]               delete a person's data (tombstone at once, then the job)
  list [--state <state>] [--limit <n>] [--top-level]
                                                 recent jobs (states: waiting, active, waiting-children, delayed, completed, failed);
                                                 a recompute's parts say "part of <id>", --top-level leaves them out
  status <id> [--watch]                          one job with a progress bar (--watch: until it ends)
  schedules                                      the job schedulers and their next run
  migrate                                        bring an earlier release's store and topics to this
                                                 release's layout (CHANGELOG.md); npm start runs it

Times: ISO (2026-11-20T10:00Z) or ms since the epoch.`;

const consoleOutput: CliOutput = {
  log: (l) => console.log(l),
  error: (l) => console.error(l),
  progress: (l) => {
    if (process.stdout.isTTY) process.stdout.write(`\r${l}`);
    else console.log(l);
  },
};

/** Commands that enqueue a job, and its kind. */
const enqueueKinds: Readonly<Record<string, JobKind>> = {
  reprocess: 'recompute',
  train: 'train-attribution',
  reconcile: 'reconcile',
  compact: 'compact',
  'recompute-dirty': 'recompute-dirty',
  'enforce-retention': 'enforce-retention',
};
const commands = [...Object.keys(enqueueKinds), 'delete-user', 'list', 'status', 'schedules', 'migrate'];

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  hour: { type: 'string' },
  force: { type: 'boolean' },
  wait: { type: 'boolean' },
  watch: { type: 'boolean' },
  state: { type: 'string' },
  limit: { type: 'string' },
  user: { type: 'string' },
  'top-level': { type: 'boolean' },
} as const;

type Parsed = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof options }>>;

/** The command and its options, or the exit code when there is nothing to run (help, bad usage). */
function parseCommand(argv: readonly string[], out: CliOutput): { command: string; args: Parsed } | number {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out.log(usage);
    return command ? 0 : 2;
  }
  if (!commands.includes(command)) {
    out.error(`unknown command "${command}"\n\n${usage}`);
    return 2;
  }
  try {
    return { command, args: parseArgs({ args: [...rest], allowPositionals: true, options }) };
  } catch (err) {
    out.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
}

/** `cli:<login name>` (just `cli` when the name is unknown or not a valid requester). */
function cliRequester(): string {
  let user = '';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the surface is still known.
  }
  const named = `cli:${user}`;
  return user && requesterPattern.test(named) ? named : 'cli';
}

/**
 * The job data of an enqueue command, checked by the job contract and normalized (the job shows
 * what will be computed), saying who asked; the exit code 2 when it is malformed.
 */
function jobData(kind: JobKind, values: Parsed['values'], out: CliOutput): Record<string, unknown> | number {
  const data: Record<string, unknown> = { requestedBy: cliRequester() };
  for (const f of ['from', 'to', 'hour'] as const) if (values[f] !== undefined) data[f] = values[f];
  if (values.force) data['force'] = true;
  try {
    return jobDataOf(parseJobRequest(kind, data));
  } catch (err) {
    if (!(err instanceof InvalidJobDataError)) throw err;
    out.error(err.message);
    return 2;
  }
}

/** `jobs delete-user --user <id> [--wait]`: the same request as `DELETE /v1/users/:userId`. */
async function deleteUser(queue: Queue, redis: RedisClient, config: SigflowConfig, userId: string | undefined, wait: boolean, out: CliOutput): Promise<number> {
  if (userId === undefined) {
    out.error('delete-user needs --user <id>');
    return 2;
  }
  let requestId: string;
  try {
    const ops = new OpsLog({ config, redis, logger: createLogger('jobs-cli', 'warn') });
    try {
      requestId = await requestDeletion(queue, redis, config, ops, userId, cliRequester());
    } finally {
      await ops.close();
    }
  } catch (err) {
    if (!(err instanceof InvalidJobDataError)) throw err;
    out.error(err.message);
    return 2;
  }
  out.log(`deletion requested as ${requestId}; the person's events are refused from now on`);
  if (wait) return watchJob(queue, requestId, out);
  out.log(`follow it with: npm run jobs -- status ${requestId} --watch`);
  return 0;
}

/**
 * Runs one CLI command against the batch queue; returns the exit code. Job data is checked with
 * the worker's own validation (the batch job contract) before anything is enqueued.
 */
export async function runCli(argv: readonly string[], config: SigflowConfig, out: CliOutput = consoleOutput): Promise<number> {
  const parsed = parseCommand(argv, out);
  if (typeof parsed === 'number') return parsed;
  const { command, args } = parsed;
  const kind = enqueueKinds[command];
  const data = kind ? jobData(kind, args.values, out) : {};
  if (typeof data === 'number') return data;
  const connection = bullConnection(config);
  const queue = openBatchQueue(config, connection);
  try {
    if (kind) return await enqueueJob(queue, kind, data, args.values.wait === true, out);
    if (command === 'delete-user') return await deleteUser(queue, connection, config, args.values.user, args.values.wait === true, out);
    if (command === 'status') return await showStatus(queue, args.positionals[0], args.values.watch === true, out);
    if (command === 'migrate') return await migrate(config, connection, out);
    if (command === 'list') return await listJobs(queue, args.values.state, Number(args.values.limit ?? 20), out, args.values['top-level'] === true);
    return await listSchedules(queue, out);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
