import Type, { type TSchema } from 'typebox';
import type { RoutePlugin } from '../context.js';
import { mergeNote, RangeQuery, Watermark } from '../http/analytics-schemas.js';
import { Granularity, Id, Nullable, Source, errorResponses } from '../http/schemas.js';
import { campaignMetrics, campaignSpend, queryRange } from '../views/analytics-queries.js';
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

const SpendRow = Type.Object({
  start: Type.Integer(),
  end: Type.Integer(),
  channel: Type.String(),
  spendMicros: Type.Number({ description: 'Cost of the valid impressions and clicks (micros)' }),
  invalidSpendMicros: Type.Number({ description: 'Cost of the invalid ones: refund claims (micros)' }),
  clicks: Type.Number({ description: 'Valid clicks' }),
  source: Source,
});

/** The schema of a campaign's series per window, hour or day (metrics, spend): its rows are `row`. */
function seriesSchema<R extends TSchema>(summary: string, tag: string, row: R) {
  return {
    tags: [tag],
    summary,
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
        rows: Type.Array(row),
      }),
      ...errorResponses,
    },
  };
}

/**
 * Campaigns (register with prefix `/v1/campaigns`): the listing, and merged metrics and spend per
 * window, hour or day.
 */
export const campaignRoutes: RoutePlugin = async (app, { ctx }) => {
  registerListing(app, ctx, 'campaigns', (p) => ctx.keys.campaigns(p), ctx.keys.batchCampaigns());

  app.get(
    '/:campaignId/metrics',
    { config: { role: 'analyst' }, schema: seriesSchema('Impressions, clicks, CTR and invalid traffic of a campaign per window, hour or day', 'analytics', MetricsRow) },
    async (request) => campaignMetrics(ctx, request.params.campaignId, queryRange(ctx, request.query), request.query.granularity ?? 'minute'),
  );

  app.get(
    '/:campaignId/spend',
    { config: { role: 'analyst' }, schema: seriesSchema('Spend, invalid spend and valid clicks of a campaign per channel and window, hour or day', 'bidding', SpendRow) },
    async (request) => campaignSpend(ctx, request.params.campaignId, queryRange(ctx, request.query), request.query.granularity ?? 'minute'),
  );
};
