import Type from 'typebox';
import type { Job, JobType, Queue } from 'bullmq';
import { requesterOf } from '../auth/auth-hooks.js';
import type { RoutePlugin } from '../context.js';
import { BadParameterError } from '../errors.js';
import { checkedJobData } from '../http/job-data.js';
import { readJobAndState, recentJobs } from '@sigflow/batch-jobs';
import { JobId, JobView, TimeValue, jobView, refuseCoercibleTimes, reprocessRange, stateName } from '../http/job-schemas.js';
import { errorResponses } from '../http/schemas.js';

/**
 * States a job can be listed by; `waiting` is BullMQ's `wait`. BullMQ 6 has no `paused` state:
 * jobs of a paused queue stay `waiting`.
 */
const jobStates = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
type JobStateName = (typeof jobStates)[number];
const bullJobType: Readonly<Record<JobStateName, JobType>> = {
  active: 'active',
  waiting: 'wait',
  delayed: 'delayed',
  prioritized: 'prioritized',
  'waiting-children': 'waiting-children',
  completed: 'completed',
  failed: 'failed',
};
/** States a job can still be cancelled in (no worker holds it). */
const cancellable = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'paused', 'waiting-children']);

function isJobState(name: string): name is JobStateName {
  return (jobStates as readonly string[]).includes(name);
}

/** `state=completed,failed` as state names; every state when absent. */
function parseStates(value: string | undefined): JobStateName[] {
  if (!value) return [...jobStates];
  return value.split(',').map((raw) => {
    const s = raw.trim();
    if (!isJobState(s)) throw new BadParameterError('state', `state: unknown job state ${JSON.stringify(s)}; known: ${jobStates.join(', ')}`);
    return s;
  });
}

/** Newest first, at most `limit`, over the given states; with `parts` false, only jobs of their own (no parent). */
async function listJobs(queue: Queue, states: readonly JobStateName[], limit: number, parts: boolean) {
  const lists = await Promise.all(
    states.map(async (state) => (await recentJobs(queue, [bullJobType[state]], limit, { parts })).map((job) => jobView(job, state))),
  );
  return lists.flat().sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : 1)).slice(0, limit);
}

const route = { config: { role: 'ops' as const } };
const tagged = { tags: ['jobs'], security: [{ apiKey: [] }] };
const ById = Type.Object({ id: JobId });

const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 200, description: `Comma list of states (default: all): ${jobStates.join(', ')}` })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    parts: Type.Boolean({ default: true, description: "false: only jobs of their own, not the recompute-part jobs a long recompute fans out into (each names its parent in parentId; the parent's answer sums them)" }),
  },
  { additionalProperties: false },
);

const cancelSchema = {
  ...tagged,
  params: ById,
  summary: 'Cancel a job that has not started (waiting, delayed, prioritized)',
  description: 'Answers 409 for a job a worker holds or that finished.',
  response: {
    200: Type.Object({ id: Type.String(), cancelled: Type.Boolean(), state: Type.String({ description: 'The state it was cancelled in' }) }),
    404: errorResponses[400],
    409: errorResponses[400],
    ...errorResponses,
  },
};

/** Removes a job that has not started; the reason it cannot be cancelled otherwise. */
async function cancelWaiting(job: Job, state: string): Promise<string | null> {
  if (!cancellable.has(state)) return `job ${job.id} is ${state}; only jobs that have not started can be cancelled`;
  try {
    await job.remove();
    return null;
  } catch (err) {
    // A worker took it between the state check and the removal (BullMQ refuses to remove locked jobs).
    return `job ${job.id} could not be cancelled: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Ops routes over the batch layer's BullMQ queue (register with prefix `/v1/jobs`): enqueue a
 * reprocess, list, show and cancel jobs. Job data is checked by the batch job contract
 * (`@sigflow/batch-jobs`), the same check the worker makes, and carries who asked.
 */
export const jobRoutes: RoutePlugin = async (app, { ctx }) => {
  const { queue } = ctx;
  const { attempts, backoffMs } = ctx.config.batch;

  app.post(
    '/reprocess',
    {
      ...route,
      schema: {
        ...tagged,
        summary: 'Recompute the batch views of a time range',
        description:
          'Enqueues a `recompute` job over the whole hours covering [from, to) (from rounded down, to rounded up to the hour); ' +
          'the batch workers write each hour as a new version and switch it in atomically. ' +
          `Up to ${attempts} attempts, exponential backoff from ${backoffMs} ms (SIGFLOW_BATCH_ATTEMPTS, SIGFLOW_BATCH_BACKOFF_MS).`,
        body: Type.Object({ from: TimeValue, to: TimeValue }, { additionalProperties: false }),
        response: { 202: JobView, ...errorResponses },
      },
      preValidation: async (request) => refuseCoercibleTimes(request.body),
    },
    async (request, reply) => {
      const range = reprocessRange(request.body.from, request.body.to, ctx.config.api.maxRangeMs);
      const job = await queue.add('recompute', checkedJobData('recompute', { ...range, requestedBy: requesterOf(request) }, 'body'));
      return reply.code(202).send(jobView(job, await job.getState()));
    },
  );

  app.get(
    '',
    { ...route, schema: { ...tagged, summary: 'Recent batch jobs, newest first', querystring: ListQuery, response: { 200: Type.Object({ jobs: Type.Array(JobView) }), ...errorResponses } } },
    async (request) => ({ jobs: await listJobs(queue, parseStates(request.query.state), request.query.limit, request.query.parts) }),
  );

  app.get(
    '/:id',
    { ...route, schema: { ...tagged, params: ById, summary: "A job's state, progress and error", response: { 200: JobView, 404: errorResponses[400], ...errorResponses } } },
    async (request, reply) => {
      const read = await readJobAndState(queue, request.params.id);
      if (!read) return reply.code(404).send({ error: `no job ${request.params.id}`, statusCode: 404 });
      return jobView(read.job, read.state);
    },
  );

  app.delete('/:id', { ...route, schema: cancelSchema }, async (request, reply) => {
    const { id } = request.params;
    const job = await queue.getJob(id);
    if (!job) return reply.code(404).send({ error: `no job ${id}`, statusCode: 404 });
    const state = await job.getState();
    const refused = await cancelWaiting(job, state);
    if (refused) return reply.code(409).send({ error: refused, statusCode: 409 });
    return { id, cancelled: true, state: stateName(state) };
  });
};
