import Type from 'typebox';
import type { RoutePlugin } from '../context.js';
import { Counts, mergeNote, RangeQuery, Watermark } from '../http/analytics-schemas.js';
import { Source, errorResponses } from '../http/schemas.js';
import { eventCounts, queryRange } from '../views/analytics-queries.js';

const EventCountRow = Type.Object({
  start: Type.Integer(),
  end: Type.Integer(),
  name: Type.String({ description: 'The custom event name (normalized: lower case, spaces as _)' }),
  valid: Type.Integer(),
  invalid: Counts,
  source: Source,
});

const Query = Type.Object(
  {
    ...RangeQuery,
    name: Type.Optional(Type.String({ maxLength: 1_000, pattern: '^[a-z0-9_.:-]{1,64}(,[a-z0-9_.:-]{1,64})*$', description: 'Comma list of event names (default: every name)' })),
    granularity: Type.Optional(Type.Enum(['minute', 'hour', 'day', 'total'], { description: 'Buckets: total (default: one bucket [from, to)), or per minute/hour/day' })),
  },
  { additionalProperties: false },
);

/** `GET /v1/events/counts` (register with that prefix): custom events per name and bucket, valid and invalid by reason. */
export const eventCountRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Custom events (track) per name and bucket: valid, and invalid by reason',
        description: `${mergeNote} Custom events are invalid only as bots.`,
        security: [{ apiKey: [] }],
        querystring: Query,
        response: {
          200: Type.Object({ granularity: Type.String(), from: Type.Integer(), to: Type.Integer(), windowMs: Type.Integer(), batchWatermark: Watermark, rows: Type.Array(EventCountRow) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return eventCounts(ctx, queryRange(ctx, q), q.granularity ?? 'total', q.name === undefined ? undefined : new Set(q.name.split(',')));
    },
  );
};
