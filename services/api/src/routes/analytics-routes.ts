import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { readServingStatus, type AttributionGroupBy, type Granularity as GranularityName } from '@sigflow/store';
import { roleOfRequest } from '../auth/auth-hooks.js';
import type { ApiContext } from '../context.js';
import { parseRange } from '../http/params.js';
import { Granularity, Id, Model, Nullable, Source, TimeParam, errorResponses } from '../http/schemas.js';
import { attribution, campaignMetrics, pageHeatmapOver, reconciliation } from '../views/analytics-queries.js';

const HOUR = 3_600_000;
const mergeNote =
  'Windows (tumbling, rules.windowMs) whose start lies in [from, to) are served; a window comes from the batch views when ' +
  'its end is at or before the batch watermark (the version batchHours names for its hour; an hour without a version has no ' +
  'rows), otherwise from the speed views. Buckets of several windows that straddle the watermark say source=mixed. ' +
  'Only buckets with data are listed.';

const RangeQuery = {
  from: Type.Optional(TimeParam('Range start, inclusive (default: to - 1 h)')),
  to: Type.Optional(TimeParam('Range end, exclusive (default: now)')),
};

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
const Watermark = Nullable(Type.Integer({ description: 'Event time (ms) up to which batch views are authoritative; null before the first batch run' }));

export const AttributionRow = Type.Object({
  start: Type.Integer(),
  end: Type.Integer(),
  key: Type.String({ description: 'Channel or campaign id (groupBy); direct / none for conversions with an empty path' }),
  conversions: Type.Number({ description: 'Attributed conversions (sum of credit fractions)' }),
  revenue: Type.Number(),
  source: Source,
});
export const AttributionQuery = Type.Object(
  {
    ...RangeQuery,
    model: Type.Optional(Model),
    groupBy: Type.Optional(Type.Enum(['channel', 'campaign'], { description: 'Group by channel (default) or campaign' })),
    granularity: Type.Optional(
      Type.Enum(['minute', 'hour', 'day', 'total'], { description: 'Buckets: total (default: one bucket [from, to)), or per minute/hour/day' }),
    ),
  },
  { additionalProperties: false },
);
export interface AttributionQueryValue {
  from?: string;
  to?: string;
  model?: string;
  groupBy?: AttributionGroupBy;
  granularity?: GranularityName;
}

const Comparison = Type.Object({
  speed: Type.Number(),
  batch: Nullable(Type.Number()),
  diff: Nullable(Type.Number({ description: 'speed - batch' })),
  relDiff: Nullable(Type.Number({ description: '(speed - batch) / batch' })),
});
const Counts = Type.Record(Type.String(), Type.Number());
const ReconciliationRow = Type.Object({
  hourStart: Type.Integer(),
  campaignId: Type.String({ description: 'none = direct conversions, * = causes of events without a campaign' }),
  batchVersion: Nullable(Type.String()),
  batchComputedAt: Nullable(Type.Integer()),
  batchShapleyVersion: Nullable(Type.String({ description: 'Shapley table version the batch hour used' })),
  authoritative: Type.Boolean({ description: 'The whole hour is at or below the batch watermark' }),
  impressions: Comparison,
  clicks: Comparison,
  invalidImpressions: Comparison,
  invalidClicks: Comparison,
  conversions: Comparison,
  revenue: Comparison,
  causes: Type.Object({
    late: Counts,
    duplicates: Type.Object({ speed: Type.Number(), batch: Nullable(Type.Number()) }),
    invalid: Type.Object({ speed: Counts, batch: Nullable(Counts) }),
    other: Counts,
  }),
  changes: Type.Unknown({ description: 'What the batch layer noted as changed against the speed view' }),
});

/** Analyst routes: merged campaign metrics, attribution, reconciliation, heatmaps, listings. */
export function registerAnalyticsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const range = (q: { from?: string; to?: string }) =>
    parseRange(q.from, q.to, { now: ctx.now(), maxRangeMs: ctx.config.api.maxRangeMs, defaultSpanMs: HOUR });
  const security = [{ apiKey: [] }];

  app.get(
    '/v1/campaigns/:campaignId/metrics',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Impressions, clicks, CTR and invalid traffic of a campaign per window, hour or day',
        description: mergeNote,
        security,
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
    async (request) => {
      const { campaignId } = request.params as { campaignId: string };
      const q = request.query as { from?: string; to?: string; granularity?: GranularityName };
      return campaignMetrics(ctx, campaignId, range(q), q.granularity ?? 'minute');
    },
  );

  app.get(
    '/v1/attribution',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Attributed conversions and revenue by channel or campaign',
        description: `${mergeNote} markov exists in batch views only, so its windows after the watermark are empty.`,
        security,
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
      const q = request.query as AttributionQueryValue;
      return attribution(ctx, q.model ?? 'last_touch', q.groupBy ?? 'channel', range(q), q.granularity ?? 'total');
    },
  );

  app.get(
    '/v1/reconciliation',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Speed vs batch per hour and campaign, with the causes of the differences',
        description:
          'Whole hours covering [from, to). For each hour and campaign: impressions, clicks, invalid touchpoints and the ' +
          "model's attributed conversions and revenue in both layers, diff = speed - batch and relDiff = diff / batch " +
          '(batch values are null for hours the batch layer has not computed), and the causes both layers counted: late ' +
          'events (speed only), duplicates, invalid traffic by reason, the Shapley table versions.',
        security,
        querystring: Type.Object(
          {
            ...RangeQuery,
            campaignId: Type.Optional(Id('Only this campaign (default: every campaign)')),
            model: Type.Optional(Model),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            from: Type.Integer(),
            to: Type.Integer(),
            model: Type.String(),
            batchWatermark: Watermark,
            shapleyVersion: Nullable(Type.String({ description: 'The Shapley table version published now (the speed layer applies the latest)' })),
            rows: Type.Array(ReconciliationRow),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query as { from?: string; to?: string; campaignId?: string; model?: string };
      return reconciliation(ctx, range(q), q.campaignId ?? null, q.model ?? 'last_touch');
    },
  );

  app.get(
    '/v1/pages/:pageId/heatmap',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: "A page's elements with valid clicks, share of the page's clicks and rank",
        description: `${mergeNote} Ranks: 1 = most clicks, ties ordered by element id.`,
        security,
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
            elements: Type.Array(
              Type.Object({ elementId: Type.String(), clicks: Type.Number(), share: Type.Number(), rank: Type.Integer() }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { pageId } = request.params as { pageId: string };
      return pageHeatmapOver(ctx, pageId, range(request.query as { from?: string; to?: string }));
    },
  );

  const Listing = (name: string) =>
    Type.Object({ [name]: Type.Array(Type.String()), truncated: Type.Boolean() }) as ReturnType<typeof Type.Object>;
  for (const [path, key, name] of [
    ['/v1/campaigns', () => ctx.keys.campaigns(), 'campaigns'],
    ['/v1/pages', () => ctx.keys.pages(), 'pages'],
  ] as const) {
    app.get(
      path,
      {
        config: { role: 'analyst' },
        schema: {
          tags: ['analytics'],
          summary: `The ${name} the speed layer has seen (at most 1000, sorted)`,
          security,
          response: { 200: Listing(name), ...errorResponses },
        },
      },
      async () => {
        const members = (await ctx.redis.srandmember(key(), 1001)).sort();
        return { [name]: members.slice(0, 1000), truncated: members.length > 1000 };
      },
    );
  }

  app.get(
    '/v1/status',
    {
      config: { role: 'reader' },
      schema: {
        tags: ['analytics'],
        summary: 'Where the served data stands: batch watermark, speed watermarks, Shapley version, speed counters',
        security,
        response: {
          200: Type.Object({
            now: Type.Integer(),
            role: Type.String({ description: "The calling key's role" }),
            batchWatermark: Watermark,
            speedWatermarks: Counts,
            shapleyVersion: Nullable(Type.String()),
            speedCounters: Counts,
            windowMs: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const status = await readServingStatus(ctx.redis, ctx.keys);
      return { now: ctx.now(), role: roleOfRequest(request) ?? 'reader', ...status, windowMs: ctx.config.rules.windowMs };
    },
  );
}
