import type { Readable } from 'node:stream';
import Type from 'typebox';
import { deletionRequestPattern, InvalidJobDataError, readJobAndState, requestDeletion } from '@sigflow/batch-jobs';
import { requesterOf } from '../auth/auth-hooks.js';
import type { RoutePlugin } from '../context.js';
import { BadParameterError } from '../errors.js';
import { stateName } from '../http/job-schemas.js';
import { Id, Nullable, errorResponses } from '../http/schemas.js';
import { archiveCaughtUp, exportUserEvents } from '../privacy/user-export.js';

const tagged = { tags: ['privacy'], security: [{ apiKey: [] }] };
const route = { config: { role: 'privacy' as const } };
const UserParams = Type.Object({ userId: Id('User id (1-128 printable characters)') });
const RequestParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: deletionRequestPattern.source, description: 'Deletion request id' }) });

const Accepted = Type.Object({
  requestId: Type.String(),
  status: Type.String({ description: 'Where the request shows its progress and outcome' }),
});

const RequestView = Type.Object({
  requestId: Type.String(),
  state: Type.String({ description: 'waiting | active | delayed | completed | failed' }),
  progress: Type.Unknown({ description: 'step (tombstone, speed, archive, recompute, done), stepsDone/stepsTotal, percent, archive files, hours' }),
  outcome: Type.Unknown({ description: 'When completed: who erased the speed state (owner | direct), files rewritten and removed, rows removed, hours recomputed' }),
  failedReason: Nullable(Type.String()),
  attemptsMade: Type.Integer(),
  requestedBy: Nullable(Type.String()),
  createdAt: Type.Integer(),
  finishedOn: Nullable(Type.Integer()),
});

/**
 * A person's data on request (DESIGN.md "Data lifecycle"), role `privacy` (or `ops`), register
 * with prefix `/v1`: deletion (tombstone at once, then a `delete-user` batch job), its progress,
 * and the export of every event of theirs as NDJSON.
 */
export const privacyRoutes: RoutePlugin = async (app, { ctx }) => {
  const { config, queue } = ctx;

  app.delete(
    '/users/:userId',
    {
      ...route,
      schema: {
        ...tagged,
        params: UserParams,
        summary: "Delete a person's data",
        description:
          'Records a tombstone at once (a salted hash of the id, never the id): from then on the collector refuses their events, ' +
          'the speed layer and the archiver drop them. Then a `delete-user` job erases their speed state inside the partition\'s ' +
          'fenced commit, rewrites every archive file holding their rows and recomputes those hours. There is no undo. 202 with the ' +
          'request id; GET /v1/privacy/requests/{id} shows progress and outcome.',
        response: { 202: Accepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      let requestId: string;
      try {
        requestId = await requestDeletion(queue, ctx.redis, config, ctx.ops, request.params.userId, requesterOf(request), ctx.now());
      } catch (err) {
        if (err instanceof InvalidJobDataError) throw new BadParameterError('userId', err.message);
        throw err;
      }
      request.log.info({ requestId }, 'deletion requested');
      return reply.code(202).send({ requestId, status: `/v1/privacy/requests/${requestId}` });
    },
  );

  app.get(
    '/privacy/requests/:id',
    { ...route, schema: { ...tagged, params: RequestParams, summary: 'A deletion request: progress by step, outcome', response: { 200: RequestView, 404: errorResponses[400], ...errorResponses } } },
    async (request, reply) => {
      const read = await readJobAndState(queue, request.params.id);
      if (!read || read.job.name !== 'delete-user') return reply.code(404).send({ error: `no deletion request ${request.params.id}`, statusCode: 404 });
      const { job, state } = read;
      return {
        requestId: String(job.id),
        state: stateName(state),
        progress: job.progress ?? null,
        outcome: job.returnvalue ?? null,
        failedReason: job.failedReason || null,
        attemptsMade: job.attemptsMade ?? 0,
        requestedBy: (job.data as { requestedBy?: string } | undefined)?.requestedBy ?? null,
        createdAt: job.timestamp,
        finishedOn: job.finishedOn ?? null,
      };
    },
  );

  app.get(
    '/users/:userId/export',
    {
      ...route,
      schema: {
        ...tagged,
        params: UserParams,
        summary: "Every event of a person, as NDJSON, streamed",
        description:
          'Waits until the archiver has archived every event Kafka held for the person\'s partition at the time of the request ' +
          `(at most SIGFLOW_PRIVACY_EXPORT_WAIT_MS; 503 with Retry-After past it), then streams their events from the Parquet archive ` +
          'in event time, one JSON object per line, as the collector accepted them (received_at stamped).',
        produces: ['application/x-ndjson'],
        response: { 200: Type.Unsafe<Readable>({ type: 'string', description: 'NDJSON, one event per line' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      if (ctx.kafka && !(await archiveCaughtUp(ctx.kafka, config, userId, config.privacy.exportWaitMs))) {
        return reply.code(503).header('retry-after', '10').send({ error: 'the archive has not caught up with the events topic yet; retry later', statusCode: 503 });
      }
      const stream = await exportUserEvents(ctx.archive, userId);
      return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', 'attachment; filename="events.ndjson"').send(stream);
    },
  );
};
