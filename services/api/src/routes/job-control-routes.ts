import Type from 'typebox';
import type { Job } from 'bullmq';
import { requesterOf } from '../auth/auth-hooks.js';
import type { RoutePlugin } from '../context.js';
import { checkedJobData } from '../http/job-data.js';
import { JobId, JobView, TimeValue, jobView, refuseCoercibleTimes, reprocessRange } from '../http/job-schemas.js';
import { parseTime } from '../http/params.js';
import { TimeParam, errorResponses } from '../http/schemas.js';
import { archiveCoverage } from '../views/archive-coverage.js';

const route = { config: { role: 'ops' as const } };
const tagged = { tags: ['jobs'], security: [{ apiKey: [] }] };

const PreviewQuery = Type.Object({ from: TimeParam('Range start'), to: TimeParam('Range end') }, { additionalProperties: false });
const PreviewReply = Type.Object({
  from: Type.Integer({ description: 'from rounded down to the hour' }),
  to: Type.Integer({ description: 'to rounded up to the hour' }),
  hours: Type.Integer({ description: 'Hours a reprocess of the range recomputes' }),
  archivedHours: Type.Integer({ description: 'Of those, hours with archive files' }),
  files: Type.Integer(),
  rows: Type.Integer({ description: 'Archived rows of those hours (Parquet footers; copies included, the archive is at-least-once)' }),
});

const TrainBody = Type.Object({ from: Type.Optional(TimeValue), to: Type.Optional(TimeValue) }, { additionalProperties: false });

/** Puts a failed job back in the queue with its attempts reset; the reason it cannot otherwise. */
async function retryFailed(job: Job, state: string): Promise<string | null> {
  if (state !== 'failed') return `job ${job.id} is ${state}; only a failed job can be retried`;
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return null;
}

/**
 * Ops controls beside the job list (register with prefix `/v1/jobs`): preview what a reprocess
 * covers in the archive, start a training of the attribution models, retry a failed job.
 */
export const jobControlRoutes: RoutePlugin = async (app, { ctx }) => {
  const { queue, config } = ctx;

  app.get(
    '/reprocess/preview',
    {
      ...route,
      schema: { ...tagged, summary: 'The whole hours and archived rows a reprocess of [from, to) covers', querystring: PreviewQuery, response: { 200: PreviewReply, ...errorResponses } },
    },
    async (request) => {
      const range = reprocessRange(request.query.from, request.query.to, config.api.maxRangeMs);
      return { ...range, ...(await archiveCoverage(ctx.archive, range.from, range.to)) };
    },
  );

  app.post(
    '/train',
    {
      ...route,
      schema: {
        ...tagged,
        summary: 'Train the Shapley table and the Markov chain over a period and publish them',
        description: `Enqueues a \`train-attribution\` job over [from, to) (default: the trailing ${config.rules.shapleyTrainingMs} ms up to the current hour).`,
        body: TrainBody,
        response: { 202: JobView, ...errorResponses },
      },
      preValidation: async (request) => refuseCoercibleTimes(request.body),
    },
    async (request, reply) => {
      const { from, to } = request.body;
      // Each time checked on its own first, so that a bad one is a 400 naming it.
      const times = {
        ...(from === undefined ? {} : { from: typeof from === 'number' ? from : parseTime(from, 'from') }),
        ...(to === undefined ? {} : { to: typeof to === 'number' ? to : parseTime(to, 'to') }),
      };
      const data = checkedJobData('train-attribution', { ...times, requestedBy: requesterOf(request) }, 'body');
      const job = await queue.add('train-attribution', data);
      return reply.code(202).send(jobView(job, await job.getState()));
    },
  );

  app.post(
    '/:id/retry',
    {
      ...route,
      schema: {
        ...tagged,
        summary: 'Retry a failed job (its attempts start over)',
        description: 'Answers 409 for a job that has not failed.',
        params: Type.Object({ id: JobId }),
        response: { 200: JobView, 404: errorResponses[400], 409: errorResponses[400], ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await queue.getJob(request.params.id);
      if (!job) return reply.code(404).send({ error: `no job ${request.params.id}`, statusCode: 404 });
      const refused = await retryFailed(job, await job.getState());
      if (refused) return reply.code(409).send({ error: refused, statusCode: 409 });
      const again = (await queue.getJob(request.params.id)) ?? job;
      return jobView(again, await again.getState());
    },
  );
};
