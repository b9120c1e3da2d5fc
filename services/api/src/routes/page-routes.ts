import Type from 'typebox';
import type { RoutePlugin } from '../context.js';
import { mergeNote, RangeQuery, Watermark } from '../http/analytics-schemas.js';
import { Id, Source, errorResponses } from '../http/schemas.js';
import { pageHeatmapOver, queryRange } from '../views/analytics-queries.js';
import { registerListing } from './listing.js';

/** Pages (register with prefix `/v1/pages`): the listing and a page's heatmap. */
export const pageRoutes: RoutePlugin = async (app, { ctx }) => {
  registerListing(app, ctx, 'pages', (p) => ctx.keys.pages(p), ctx.keys.batchPages());

  app.get(
    '/:pageId/heatmap',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: "A page's elements with valid clicks, share of the page's clicks and rank",
        description: `${mergeNote} Ranks: 1 = most clicks, ties ordered by element id.`,
        security: [{ apiKey: [] }],
        params: Type.Object({ pageId: Id('Page id') }),
        querystring: Type.Object(RangeQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({
            pageId: Type.String(),
            from: Type.Integer(),
            to: Type.Integer(),
            batchWatermark: Watermark,
            source: Source,
            totalClicks: Type.Number(),
            elements: Type.Array(Type.Object({ elementId: Type.String(), clicks: Type.Number(), share: Type.Number(), rank: Type.Integer() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => pageHeatmapOver(ctx, request.params.pageId, queryRange(ctx, request.query)),
  );
};
