import Type, { type TProperties } from 'typebox';
import type { RoutePlugin } from '../context.js';
import { mergeNote, RangeQuery, Watermark } from '../http/analytics-schemas.js';
import { Id, Source, errorResponses } from '../http/schemas.js';
import { pageHeatmapOver, queryRange } from '../views/analytics-queries.js';
import { formFunnelsOver, mouseMovesOver, pageUrlOf, scrollReachOver } from '../views/page-activity-queries.js';
import { registerListing } from './listing.js';

const PageAnswer = {
  pageId: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  batchWatermark: Watermark,
  source: Source,
};
const Rate = Type.Union([Type.Number(), Type.Null()]);
const pageParams = Type.Object({ pageId: Id('Page id') });
const rangeQuery = Type.Object(RangeQuery, { additionalProperties: false });
const analyst = { role: 'analyst' } as const;

/** The options of a page's merged answer over a range: `answer` is what it adds to the page, range and source. */
function pageRangeRoute<A extends TProperties>(summary: string, description: string, answer: A) {
  return {
    config: analyst,
    schema: {
      tags: ['analytics'],
      summary,
      description: `${mergeNote} ${description}`,
      security: [{ apiKey: [] }],
      params: pageParams,
      querystring: rangeQuery,
      response: { 200: Type.Object({ ...PageAnswer, ...answer }), ...errorResponses },
    },
  };
}

/**
 * Pages (register with prefix `/v1/pages`): the listing, a page's URL, and its heatmaps over a
 * range: element clicks (share and rank), scroll reach, form funnels, mouse-move grid.
 */
export const pageRoutes: RoutePlugin = async (app, { ctx }) => {
  registerListing(app, ctx, 'pages', (p) => ctx.keys.pages(p), ctx.keys.batchPages());

  app.get(
    '/:pageId',
    {
      config: analyst,
      schema: {
        tags: ['analytics'],
        summary: 'The URL the latest page view of a page reported (what the heatmap shows)',
        description: 'From the web tracker\'s page views (attrs.url, http or https only); null when no page view named one.',
        security: [{ apiKey: [] }],
        params: pageParams,
        response: { 200: Type.Object({ pageId: Type.String(), url: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => pageUrlOf(ctx, request.params.pageId),
  );

  app.get(
    '/:pageId/scroll-reach',
    pageRangeRoute(
      "Share of a page's views that reached 25, 50, 75 and 100 % of its height",
      'pageViews = valid page views; reached = page views whose viewport bottom reached the depth (the tracker reports each depth once per page view); share = reached / pageViews, capped at 1, null without page views.',
      { pageViews: Type.Number(), depths: Type.Array(Type.Object({ depth: Type.Integer(), reached: Type.Number(), share: Rate })) },
    ),
    async (request) => scrollReachOver(ctx, request.params.pageId, queryRange(ctx, request.query)),
  );

  app.get(
    '/:pageId/form-funnels',
    pageRangeRoute(
      "A page's forms: entered (focus), changed (input), submitted, abandoned",
      'abandon = the page view ended with the form entered and not submitted; submitRate and abandonRate are over focus (null without).',
      {
        forms: Type.Array(
          Type.Object({
            formId: Type.String(),
            focus: Type.Number(),
            input: Type.Number(),
            submit: Type.Number(),
            abandon: Type.Number(),
            submitRate: Rate,
            abandonRate: Rate,
          }),
        ),
      },
    ),
    async (request) => formFunnelsOver(ctx, request.params.pageId, queryRange(ctx, request.query)),
  );

  app.get(
    '/:pageId/mouse-moves',
    pageRangeRoute(
      "A page's mouse-move density: valid moves per grid cell, in document coordinates",
      'Cell (cellX, cellY) covers x in [cellX * gridPx, (cellX + 1) * gridPx) and y likewise (rules.mouseGridPx); share = moves / totalMoves.',
      {
        gridPx: Type.Integer(),
        totalMoves: Type.Number(),
        maxMoves: Type.Number(),
        cells: Type.Array(Type.Object({ cellX: Type.Integer(), cellY: Type.Integer(), moves: Type.Number(), share: Type.Number() })),
      },
    ),
    async (request) => mouseMovesOver(ctx, request.params.pageId, queryRange(ctx, request.query)),
  );

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
