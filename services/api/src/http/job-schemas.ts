import { HOUR_MS } from '@sigflow/core';
import Type from 'typebox';
import type { Job } from 'bullmq';
import { BadParameterError } from '../errors.js';
import { parseTime } from './params.js';
import { Nullable } from './schemas.js';

// The job routes' shared parts: how a job is answered, times in bodies, ranges.

export const JobId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9:_.-]+$', description: 'BullMQ job id' });

/** A BullMQ job as the job routes answer it. */
export const JobView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  data: Type.Unknown({ description: 'The job data, incl. requestedBy (who asked: api:key-<key id>, cli:<user>, scheduler:<id>)' }),
  state: Type.String({ description: 'waiting | active | delayed | prioritized | waiting-children | completed | failed | unknown' }),
  progress: Type.Unknown({ description: 'What the worker reported (a percentage or an object)' }),
  attemptsMade: Type.Integer(),
  attempts: Type.Integer({ description: 'Attempts allowed' }),
  failedReason: Nullable(Type.String()),
  createdAt: Type.Integer(),
  processedOn: Nullable(Type.Integer()),
  finishedOn: Nullable(Type.Integer()),
  returnValue: Type.Unknown(),
  parentId: Nullable(Type.String({ description: 'The job this one is a part of (a recompute-part names its recompute); null for a job of its own' })),
});

// At most 15 digits, like the string form (parseTime): later times have no date (8.64e15 is the
// last), so the batch layer could not name their hour's archive folder.
export const TimeValue = Type.Union([Type.Integer({ minimum: 0, maximum: 999_999_999_999_999 }), Type.String({ minLength: 1, maxLength: 40 })], {
  description: 'epoch ms or ISO-8601',
});

/** BullMQ's `wait` is `waiting` in answers. */
export const stateName = (state: string) => (state === 'wait' ? 'waiting' : state);

/** The answer for a job in `state`. */
export function jobView(job: Job, state: string) {
  return {
    id: String(job.id),
    name: job.name,
    data: job.data ?? null,
    state: stateName(state),
    progress: job.progress ?? 0,
    attemptsMade: job.attemptsMade ?? 0,
    attempts: job.opts?.attempts ?? 1,
    failedReason: job.failedReason || null,
    createdAt: job.timestamp,
    processedOn: job.processedOn ?? null,
    finishedOn: job.finishedOn ?? null,
    returnValue: job.returnvalue ?? null,
    parentId: job.parent ? String(job.parent.id) : null,
  };
}

/**
 * The raw body, before the schema: its type coercion would turn null, true and blank strings
 * into 0 or 1, so those are refused here, naming the field.
 */
export function refuseCoercibleTimes(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  for (const [name, value] of Object.entries(body)) {
    if (name !== 'from' && name !== 'to') continue;
    if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) continue;
    throw new BadParameterError(name, `${name} must be epoch milliseconds or an ISO-8601 time, got ${JSON.stringify(value)}`);
  }
}


/** [from, to) widened to whole hours, checked against the API's longest range. */
export function reprocessRange(from: number | string, to: number | string, maxRangeMs: number): { from: number; to: number } {
  const start = Math.floor((typeof from === 'number' ? from : parseTime(from, 'from')) / HOUR_MS) * HOUR_MS;
  const end = Math.ceil((typeof to === 'number' ? to : parseTime(to, 'to')) / HOUR_MS) * HOUR_MS;
  if (start >= end) throw new BadParameterError('from', 'from must be before to');
  if (end - start > maxRangeMs) throw new BadParameterError('to', `the range from..to spans ${end - start} ms, over the maximum of ${maxRangeMs} ms`);
  return { from: start, to: end };
}

