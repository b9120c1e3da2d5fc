import Type from 'typebox';
import type { JobSchedulerJson, Queue, RepeatOptions } from 'bullmq';
import { jobKinds, scheduleRecord } from '@sigflow/batch-jobs';
import type { RoutePlugin } from '../context.js';
import { BadParameterError } from '../errors.js';
import { checkedJobData } from '../http/job-data.js';
import { Nullable, errorResponses } from '../http/schemas.js';

const ScheduleView = Type.Object({
  id: Type.String(),
  jobName: Type.String(),
  pattern: Nullable(Type.String()),
  every: Nullable(Type.Integer()),
  tz: Nullable(Type.String()),
  next: Nullable(Type.Integer({ description: 'Next run (ms)' })),
  data: Type.Unknown(),
});

const ScheduleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9:_.-]+$', description: 'Job scheduler id' });

const ScheduleBody = Type.Object(
  {
    pattern: Type.Optional(Type.String({ minLength: 9, maxLength: 100, pattern: '^[0-9A-Za-z*/,?#LW-]+( [0-9A-Za-z*/,?#LW-]+){4,5}$' })),
    every: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 31 * 86_400_000 })),
    tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_/+-]+$' })),
    jobName: Type.Optional(Type.Enum([...jobKinds])),
    data: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 32 })),
  },
  { additionalProperties: false },
);

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

/** Exactly one of a cron pattern (with an optional known time zone) and a fixed interval. */
function repeatOf(body: { pattern?: string; every?: number; tz?: string }): RepeatOptions {
  if (body.pattern !== undefined && body.every === undefined) {
    if (body.tz !== undefined) {
      // An unknown zone would otherwise surface as a cron error, blamed on the pattern.
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: body.tz });
      } catch {
        throw new BadParameterError('tz', `tz is not a known time zone (an IANA name such as Europe/Berlin), got ${JSON.stringify(body.tz)}`);
      }
    }
    return { pattern: body.pattern, ...(body.tz ? { tz: body.tz } : {}) };
  }
  if (body.every !== undefined && body.pattern === undefined) return { every: body.every };
  throw new BadParameterError('pattern', 'give exactly one of pattern (cron) and every (ms)');
}

/** Creates or changes a scheduler; a pattern BullMQ's cron parser refuses is a 400. */
async function upsertSchedule(queue: Queue, name: string, repeat: RepeatOptions, template: { name: string; data: Record<string, unknown> }): Promise<void> {
  try {
    await queue.upsertJobScheduler(name, repeat, template);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const fromRedis = err instanceof Error && 'code' in err && err.code !== undefined;
    if (repeat.pattern !== undefined && !fromRedis && !/connect|redis|timeout/i.test(message)) {
      throw new BadParameterError('pattern', `pattern is not a valid cron expression: ${message}`);
    }
    throw err;
  }
}

/**
 * The batch layer's job schedulers (register with prefix `/v1/schedules`): list them, create or
 * change one. A scheduler's job data is checked by the batch job contract when it is saved, so a
 * schedule never enqueues a job the worker refuses.
 */
export const scheduleRoutes: RoutePlugin = async (app, { ctx }) => {
  const { queue } = ctx;
  const common = { config: { role: 'ops' as const }, schema: { tags: ['jobs'], security: [{ apiKey: [] }] } };

  app.get(
    '',
    { ...common, schema: { ...common.schema, summary: "The batch layer's job schedulers", response: { 200: Type.Object({ schedules: Type.Array(ScheduleView) }), ...errorResponses } } },
    async () => ({ schedules: (await queue.getJobSchedulers(0, -1, true)).map(scheduleView) }),
  );

  app.put(
    '/:name',
    {
      ...common,
      schema: {
        ...common.schema,
        summary: 'Create or change a job scheduler (cron pattern or fixed interval)',
        description:
          "Exactly one of pattern (cron, 5 or 6 fields) and every (ms). jobName defaults to the existing scheduler's job, or " +
          `to the scheduler name when that is a job name (${jobKinds.join(', ')}); data defaults to the existing template's ` +
          'and must be data the job takes (400 otherwise).',
        params: Type.Object({ name: ScheduleName }),
        body: ScheduleBody,
        response: { 200: ScheduleView, ...errorResponses },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { body } = request;
      const repeat = repeatOf(body);
      const existing = await queue.getJobScheduler(name);
      const jobName = body.jobName ?? existing?.name ?? ((jobKinds as readonly string[]).includes(name) ? name : undefined);
      if (jobName === undefined) throw new BadParameterError('jobName', `jobName is required for a new scheduler: one of ${jobKinds.join(', ')}`);
      const data = checkedJobData(jobName, body.data ?? existing?.template?.data ?? {}, 'data');
      await upsertSchedule(queue, name, repeat, { name: jobName, data });
      await ctx.ops.record([scheduleRecord(name, { repeat, template: { name: jobName, data } }, ctx.now())]);
      const saved = await queue.getJobScheduler(name);
      if (!saved) throw new Error(`scheduler ${name} not found after upsert`);
      return scheduleView(saved);
    },
  );
};
