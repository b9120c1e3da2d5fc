import { InvalidJobDataError } from './errors.js';
import { HOUR_MS, hourStart } from '@sigflow/core';
import { parseJobTime } from './job-time.js';

/**
 * The batch layer's job kinds (BullMQ job names) and their data:
 * - `recompute {from, to}`: recompute the hours [from, to) (ops: API `POST /v1/jobs/reprocess`,
 *   CLI `jobs reprocess`, the dashboard's reprocess form);
 *   A range longer than `batch.hoursPerPart` fans out as `recompute-part` child jobs;
 * - `recompute-part {from, to}`: one part of a `recompute` (its child job): the views of those
 *   hours only, the parent recomputes the range's segments once its parts are done;
 * - `recompute-dirty {}`: recompute every dirty hour (the job scheduler, every few minutes) and
 *   advance the batch watermark;
 * - `train-attribution {from?, to?}`: train the Shapley table and the Markov chain over the
 *   period (default: the trailing training period up to the current hour) and publish them;
 * - `reconcile {from, to}`: refresh "what changed against the speed view" of those hours;
 * - `compact {hour, force?}`: merge the small archive files of a sealed hour;
 * - `enforce-retention {}`: remove archive hours older than the retention with their batch views
 *   and analysts' Parquet views (the job scheduler, hourly);
 * - `delete-user {userId}`: a person's deletion (API `DELETE /v1/users/:userId`, CLI
 *   `jobs delete-user`): their speed state, their rows in the archive, the hours they touched
 *   recomputed. When it completes, its data keeps no id (only `requestedBy`).
 *
 * Every kind also takes `requestedBy` (see {@link requesterPattern}). Times are ISO strings
 * (`2026-11-20T10:00Z`) or ms since the epoch. No other field is accepted.
 */
export const jobKinds = ['recompute', 'recompute-part', 'recompute-dirty', 'train-attribution', 'reconcile', 'compact', 'enforce-retention', 'delete-user'] as const;
export type JobKind = (typeof jobKinds)[number];

/**
 * Who asked for a job, kept in its data for ops and analysts: `api:<key id>`, `cli:<user>`,
 * `scheduler:<id>`, `batch:<reason>`. 1-64 characters: letters, digits and `._:@/-`.
 */
export const requesterPattern = /^[A-Za-z0-9._:@/-]{1,64}$/;

/** Who asked, on every request (absent: not recorded, e.g. jobs enqueued by hand). */
interface Requested {
  readonly requestedBy?: string;
}

export type JobRequest = Requested &
  (
    | { readonly kind: 'recompute'; readonly from: number; readonly to: number }
    | { readonly kind: 'recompute-part'; readonly from: number; readonly to: number }
    | { readonly kind: 'recompute-dirty' }
    | { readonly kind: 'train-attribution'; readonly from?: number; readonly to?: number }
    | { readonly kind: 'reconcile'; readonly from: number; readonly to: number }
    | { readonly kind: 'compact'; readonly hour: number; readonly force: boolean }
    | { readonly kind: 'enforce-retention' }
    | { readonly kind: 'delete-user'; readonly userId: string }
  );

/** Longest range one recompute or reconcile job may cover (a year of hours). */
const maxRangeMs = 366 * 24 * HOUR_MS;

type Fields = Record<string, unknown>;

function objectOf(data: unknown, kind: string): Fields {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new InvalidJobDataError(`${kind}: job data must be an object`);
  return data as Fields;
}

function allowOnly(kind: string, data: Fields, fields: readonly string[]): void {
  const allowed = [...fields, 'requestedBy'];
  const unknown = Object.keys(data).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new InvalidJobDataError(`${kind}: unknown field ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
}

function requester(kind: string, data: Fields): Requested {
  const value = data['requestedBy'];
  if (value === undefined) return {};
  if (typeof value !== 'string' || !requesterPattern.test(value)) {
    throw new InvalidJobDataError(`${kind}.requestedBy must be 1-64 letters, digits or ._:@/-, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return { requestedBy: value };
}

function range(kind: string, data: Fields): { from: number; to: number } {
  if (data['from'] === undefined || data['to'] === undefined) throw new InvalidJobDataError(`${kind}: needs from and to`);
  const from = hourStart(parseJobTime(data['from'], `${kind}.from`));
  const rawTo = parseJobTime(data['to'], `${kind}.to`);
  const to = hourStart(rawTo) === rawTo ? rawTo : hourStart(rawTo) + HOUR_MS;
  if (to <= from) throw new InvalidJobDataError(`${kind}: from must be before to`);
  if (to - from > maxRangeMs) throw new InvalidJobDataError(`${kind}: range longer than 366 days`);
  return { from, to };
}

function trainingPeriod(kind: string, data: Fields): { from?: number; to?: number } {
  const from = data['from'] === undefined ? undefined : parseJobTime(data['from'], `${kind}.from`);
  const to = data['to'] === undefined ? undefined : parseJobTime(data['to'], `${kind}.to`);
  if (from !== undefined && to !== undefined && to <= from) throw new InvalidJobDataError(`${kind}: from must be before to`);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

function compaction(kind: string, data: Fields): { hour: number; force: boolean } {
  if (data['hour'] === undefined) throw new InvalidJobDataError(`${kind}: needs hour`);
  if (data['force'] !== undefined && typeof data['force'] !== 'boolean') throw new InvalidJobDataError(`${kind}: force must be a boolean`);
  return { hour: hourStart(parseJobTime(data['hour'], `${kind}.hour`)), force: data['force'] === true };
}

/** A user id as the event contract has it: 1-128 characters, no control characters. */
function userIdOf(kind: string, data: Fields): { userId: string } {
  const value = data['userId'];
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidJobDataError(`${kind}.userId must be 1-128 printable characters`);
  }
  return { userId: value };
}

/** The fields each kind takes besides `requestedBy`. */
const kindFields: Record<JobKind, readonly string[]> = {
  recompute: ['from', 'to'],
  'recompute-part': ['from', 'to'],
  reconcile: ['from', 'to'],
  'recompute-dirty': [],
  'train-attribution': ['from', 'to'],
  compact: ['hour', 'force'],
  'enforce-retention': [],
  'delete-user': ['userId'],
};

function isJobKind(name: string): name is JobKind {
  return (jobKinds as readonly string[]).includes(name);
}

/**
 * Checks a job's name and data and returns the typed request, times normalized (ranges widened
 * to whole hours). Throws {@link InvalidJobDataError} for an unknown kind, an unknown field, or
 * malformed data. The worker, the API and the CLI all call it, so what one enqueues the worker runs.
 */
export function parseJobRequest(name: string, data: unknown): JobRequest {
  if (!isJobKind(name)) throw new InvalidJobDataError(`unknown job kind ${JSON.stringify(name)} (one of ${jobKinds.join(', ')})`);
  const d = objectOf(data, name);
  allowOnly(name, d, kindFields[name]);
  const by = requester(name, d);
  switch (name) {
    case 'recompute':
    case 'recompute-part':
    case 'reconcile':
      return { kind: name, ...range(name, d), ...by };
    case 'recompute-dirty':
      return { kind: name, ...by };
    case 'train-attribution':
      return { kind: name, ...trainingPeriod(name, d), ...by };
    case 'compact':
      return { kind: name, ...compaction(name, d), ...by };
    case 'enforce-retention':
      return { kind: name, ...by };
    case 'delete-user':
      return { kind: name, ...userIdOf(name, d), ...by };
  }
}

/** The data to enqueue for a request: its normalized fields, without `kind` (the job's name). */
export function jobDataOf(request: JobRequest): Record<string, unknown> {
  const { kind: _kind, ...data } = request;
  return data;
}
