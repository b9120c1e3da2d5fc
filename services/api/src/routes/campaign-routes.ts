import Type from 'typebox';
import type { RoutePlugin } from '../context.js';
import { mergeNote, RangeQuery, Watermark } from '../http/analytics-schemas.js';
import { Granularity, Id, Nullable, Source, errorResponses } from '../http/schemas.js';
import { campaignMetrics, queryRange } from '../views/analytics-queries.js';
import { registerListing } from './listing.js';

const MetricsRow = Type.Object({
  start: Type.Integer(),
  end: Type.Integer(),
  impressions: Type.Number({ description: 'Valid impressions' }),
  clicks: Type.Number({ description: 'Valid clicks' }),
  ctr: Nullable(Type.Number({ description: 'clicks / impressions (null without impressions)' })),
  invalidImpressions: Type.Number(),
  invalidClicks: Type.Number(),
  source: Source,
});

/** Campaigns (register with prefix `/v1/campaigns`): the listing and merged metrics per window, hour or day. */
export const campaignRoutes: RoutePlugin = async (app, { ctx }) => {
  registerListing(app, ctx, 'campaigns', (p) => ctx.keys.campaigns(p), ctx.keys.batchCampaigns());

  app.get(
    '/:campaignId/metrics',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Impressions, clicks, CTR and invalid traffic of a campaign per window, hour or day',
        description: mergeNote,
        security: [{ apiKey: [] }],
        params: Type.Object({ campaignId: Id('Campaign id') }),
        querystring: Type.Object({ ...RangeQuery, granularity: Type.Optional(Granularity) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            campaignId: Type.String(),
            from: Type.Integer(),
            to: Type.Integer(),
            granularity: Type.String(),
            windowMs: Type.Integer(),
            batchWatermark: Watermark,
            rows: Type.Array(MetricsRow),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => campaignMetrics(ctx, request.params.campaignId, queryRange(ctx, request.query), request.query.granularity ?? 'minute'),
  );
};
