import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Job, JobSchedulerJson, JobType } from 'bullmq';
import type { ApiContext } from '../context.js';
import { BadParameterError } from '../http/errors.js';
import { parseTime } from '../http/params.js';
import { Nullable, errorResponses } from '../http/schemas.js';

/** The batch layer's job names (jobs/batch runs the workers). */
export const batchJobNames = ['recompute', 'train-attribution', 'reconcile', 'compact'] as const;
/** States a job can be listed by; `waiting` is BullMQ's `wait`. */
const jobStates = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;
type JobStateName = (typeof jobStates)[number];
/** States a job can still be cancelled in (no worker holds it). */
const cancellable = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'paused', 'waiting-children']);

const HOUR = 3_600_000;

const JobView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  data: Type.Unknown(),
  state: Type.String({ description: 'waiting | active | delayed | prioritized | waiting-children | completed | failed | unknown' }),
  progress: Type.Unknown({ description: 'What the worker reported (a percentage or an object)' }),
  attemptsMade: Type.Integer(),
  attempts: Type.Integer({ description: 'Attempts allowed' }),
  failedReason: Nullable(Type.String()),
  createdAt: Type.Integer(),
  processedOn: Nullable(Type.Integer()),
  finishedOn: Nullable(Type.Integer()),
  returnValue: Type.Unknown(),
});

const ScheduleView = Type.Object({
  id: Type.String(),
  jobName: Type.String(),
  pattern: Nullable(Type.String()),
  every: Nullable(Type.Integer()),
  tz: Nullable(Type.String()),
  next: Nullable(Type.Integer({ description: 'Next run (ms)' })),
  data: Type.Unknown(),
});

const JobId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9:_.-]+$', description: 'BullMQ job id' });
const ScheduleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9:_.-]+$', description: 'Job scheduler id' });
// At most 15 digits, like the string form (parseTime): later times have no date (8.64e15 is the
// last), so the batch layer could not name their hour's archive folder.
const TimeValue = Type.Union([Type.Integer({ minimum: 0, maximum: 999_999_999_999_999 }), Type.String({ minLength: 1, maxLength: 40 })], {
  description: 'epoch ms or ISO-8601',
});

function jobView(job: Job, state: string) {
  return {
    id: String(job.id),
    name: job.name,
    data: job.data ?? null,
    state: state === 'wait' ? 'waiting' : state,
    progress: job.progress ?? 0,
    attemptsMade: job.attemptsMade ?? 0,
    attempts: job.opts?.attempts ?? 1,
    failedReason: job.failedReason || null,
    createdAt: job.timestamp,
    processedOn: job.processedOn ?? null,
    finishedOn: job.finishedOn ?? null,
    returnValue: job.returnvalue ?? null,
  };
}

function scheduleView(s: JobSchedulerJson) {
  return {
    id: s.id ?? s.key,
    jobName: s.name,
    pattern: s.pattern ?? null,
    every: s.every ?? null,
    tz: s.tz ?? null,
    next: s.next ?? null,
    data: s.template?.data ?? null,
  };
}

function timeOf(value: number | string, parameter: string): number {
  return typeof value === 'number' ? value : parseTime(value, parameter);
}

/** Ops routes over the batch layer's BullMQ queue. */
export function registerJobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { queue } = ctx;
  const security = [{ apiKey: [] }];

  app.post(
    '/v1/jobs/reprocess',
    {
      config: { role: 'ops' },
      schema: {
        tags: ['jobs'],
        summary: 'Recompute the batch views of a time range',
        description:
          'Enqueues a `recompute` job over the whole hours covering [from, to) (from rounded down, to rounded up to the hour); ' +
          'the batch workers write each hour as a new version and switch it in atomically. Retried 3 times with backoff.',
        security,
        body: Type.Object({ from: TimeValue, to: TimeValue }, { additionalProperties: false }),
        response: { 202: JobView, ...errorResponses },
      },
      // Before the schema: its type coercion would turn null, true and blank strings into 0 or 1.
      preValidation: async (request) => {
        const body = request.body as Record<string, unknown> | null;
        for (const name of ['from', 'to']) {
          const value = body?.[name];
          if (value === undefined || typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) continue;
          throw new BadParameterError(name, `${name} must be epoch milliseconds or an ISO-8601 time, got ${JSON.stringify(value)}`);
        }
      },
    },
    async (request, reply) => {
      const body = request.body as { from: number | string; to: number | string };
      const from = Math.floor(timeOf(body.from, 'from') / HOUR) * HOUR;
      const to = Math.ceil(timeOf(body.to, 'to') / HOUR) * HOUR;
      if (from >= to) throw new BadParameterError('from', 'from must be before to');
      if (to - from > ctx.config.api.maxRangeMs) {
        throw new BadParameterError('to', `the range from..to spans ${to - from} ms, over the maximum of ${ctx.config.api.maxRangeMs} ms`);
      }
      const job = await queue.add(
        'recompute',
        { from, to, requestedBy: 'api' },
        { attempts: 3, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { age: 7 * 86_400, count: 1_000 }, removeOnFail: { age: 30 * 86_400 } },
      );
      return reply.code(202).send(jobView(job, await job.getState()));
    },
  );

  app.get(
    '/v1/jobs',
    {
      config: { role: 'ops' },
      schema: {
        tags: ['jobs'],
        summary: 'Recent batch jobs, newest first',
        security,
        querystring: Type.Object(
          {
            state: Type.Optional(Type.String({ maxLength: 200, description: `Comma list of states (default: all): ${jobStates.join(', ')}` })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ jobs: Type.Array(JobView) }), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query as { state?: string; limit: number };
      const states = q.state ? q.state.split(',').map((s) => s.trim()) : [...jobStates];
      for (const s of states) {
        if (!(jobStates as readonly string[]).includes(s)) throw new BadParameterError('state', `state: unknown job state ${JSON.stringify(s)}; known: ${jobStates.join(', ')}`);
      }
      const lists = await Promise.all(
        (states as JobStateName[]).map(async (state) => {
          const type = (state === 'waiting' ? 'wait' : state) as JobType;
          const jobs = await queue.getJobs([type], 0, q.limit - 1, false);
          return jobs.filter(Boolean).map((job) => jobView(job, state));
        }),
      );
      const jobs = lists.flat().sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : 1));
      return { jobs: jobs.slice(0, q.limit) };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      config: { role: 'ops' },
      schema: {
        tags: ['jobs'],
        summary: "A job's state, progress and error",
        security,
        params: Type.Object({ id: JobId }),
        response: { 200: JobView, 404: errorResponses[400], ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const job = await queue.getJob(id);
      if (!job) return reply.code(404).send({ error: `no job ${id}`, statusCode: 404 });
      return jobView(job, await job.getState());
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      config: { role: 'ops' },
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job that has not started (waiting, delayed, prioritized)',
        description: 'Answers 409 for a job a worker holds or that finished.',
        security,
        params: Type.Object({ id: JobId }),
        response: {
          200: Type.Object({ id: Type.String(), cancelled: Type.Boolean(), state: Type.String({ description: 'The state it was cancelled in' }) }),
          404: errorResponses[400],
          409: errorResponses[400],
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const job = await queue.getJob(id);
      if (!job) return reply.code(404).send({ error: `no job ${id}`, statusCode: 404 });
      const state = await job.getState();
      if (!cancellable.has(state)) {
        return reply.code(409).send({ error: `job ${id} is ${state}; only jobs that have not started can be cancelled`, statusCode: 409 });
      }
      try {
        await job.remove();
      } catch (err) {
        // A worker took it between the state check and the removal (BullMQ refuses to remove locked jobs).
        return reply.code(409).send({ error: `job ${id} could not be cancelled: ${(err as Error).message}`, statusCode: 409 });
      }
      return { id, cancelled: true, state: String(state) === 'wait' ? 'waiting' : state };
    },
  );

  app.get(
    '/v1/schedules',
    {
      config: { role: 'ops' },
      schema: {
        tags: ['jobs'],
        summary: "The batch layer's job schedulers",
        security,
        response: { 200: Type.Object({ schedules: Type.Array(ScheduleView) }), ...errorResponses },
      },
    },
    async () => ({ schedules: (await queue.getJobSchedulers(0, -1, true)).map(scheduleView) }),
  );

  app.put(
    '/v1/schedules/:name',
    {
      config: { role: 'ops' },
      schema: {
        tags: ['jobs'],
        summary: 'Create or change a job scheduler (cron pattern or fixed interval)',
        description:
          'Exactly one of pattern (cron, 5 or 6 fields) and every (ms). jobName defaults to the existing scheduler\'s job, or ' +
          `to the scheduler name when that is a job name (${batchJobNames.join(', ')}); data defaults to the existing template's.`,
        security,
        params: Type.Object({ name: ScheduleName }),
        body: Type.Object(
          {
            pattern: Type.Optional(Type.String({ minLength: 9, maxLength: 100, pattern: '^[0-9A-Za-z*/,?#LW-]+( [0-9A-Za-z*/,?#LW-]+){4,5}$' })),
            every: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 31 * 86_400_000 })),
            tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_/+-]+$' })),
            jobName: Type.Optional(Type.Enum([...batchJobNames])),
            data: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 32 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ScheduleView, ...errorResponses },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const body = request.body as { pattern?: string; every?: number; tz?: string; jobName?: string; data?: Record<string, unknown> };
      if ((body.pattern === undefined) === (body.every === undefined)) {
        throw new BadParameterError('pattern', 'give exactly one of pattern (cron) and every (ms)');
      }
      if (body.tz !== undefined) {
        // An unknown zone would otherwise surface as a cron error, blamed on the pattern.
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: body.tz });
        } catch {
          throw new BadParameterError('tz', `tz is not a known time zone (an IANA name such as Europe/Berlin), got ${JSON.stringify(body.tz)}`);
        }
      }
      const existing = await queue.getJobScheduler(name);
      const jobName = body.jobName ?? existing?.name ?? ((batchJobNames as readonly string[]).includes(name) ? name : undefined);
      if (jobName === undefined) throw new BadParameterError('jobName', `jobName is required for a new scheduler: one of ${batchJobNames.join(', ')}`);
      const repeat = body.pattern !== undefined ? { pattern: body.pattern, ...(body.tz ? { tz: body.tz } : {}) } : { every: body.every as number };
      try {
        await queue.upsertJobScheduler(name, repeat, { name: jobName, data: body.data ?? existing?.template?.data ?? {} });
      } catch (err) {
        const message = (err as Error).message;
        if (body.pattern !== undefined && !(err as { code?: unknown }).code && !/connect|redis|timeout/i.test(message)) {
          throw new BadParameterError('pattern', `pattern is not a valid cron expression: ${message}`);
        }
        throw err;
      }
      const saved = await queue.getJobScheduler(name);
      if (!saved) throw new Error(`scheduler ${name} not found after upsert`);
      return scheduleView(saved);
    },
  );
}
