import Type from 'typebox';
import type { RoutePlugin } from '../context.js';
import { AttributionQuery, AttributionRow, mergeNote, Watermark } from '../http/analytics-schemas.js';
import { errorResponses } from '../http/schemas.js';
import { attribution, queryRange } from '../views/analytics-queries.js';

/** `GET /v1/attribution` (register with that prefix): attributed conversions and revenue by channel or campaign. */
export const attributionRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Attributed conversions and revenue by channel or campaign',
        description: `${mergeNote} markov exists in batch views only, so its windows after the watermark are empty.`,
        security: [{ apiKey: [] }],
        querystring: AttributionQuery,
        response: {
          200: Type.Object({
            model: Type.String(),
            groupBy: Type.String(),
            granularity: Type.String(),
            from: Type.Integer(),
            to: Type.Integer(),
            windowMs: Type.Integer(),
            batchWatermark: Watermark,
            rows: Type.Array(AttributionRow),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return attribution(ctx, q.model ?? 'last_touch', q.groupBy ?? 'channel', queryRange(ctx, q), q.granularity ?? 'total');
    },
  );
};
