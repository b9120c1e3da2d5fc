import Type from 'typebox';
import type { RoutePlugin } from '../context.js';
import { Counts, RangeQuery, Watermark } from '../http/analytics-schemas.js';
import { Id, Model, Nullable, errorResponses } from '../http/schemas.js';
import { queryRange, reconciliation } from '../views/analytics-queries.js';

const Comparison = Type.Object({
  speed: Type.Number(),
  batch: Nullable(Type.Number()),
  diff: Nullable(Type.Number({ description: 'speed - batch' })),
  relDiff: Nullable(Type.Number({ description: '(speed - batch) / batch' })),
});

const ReconciliationRow = Type.Object({
  hourStart: Type.Integer(),
  campaignId: Type.String({ description: 'none = direct conversions, * = causes of events without a campaign' }),
  batchVersion: Nullable(Type.String()),
  batchComputedAt: Nullable(Type.Integer()),
  batchShapleyVersion: Nullable(Type.String({ description: 'Shapley table version the batch hour used' })),
  batchIsbotVersion: Nullable(Type.String({ description: 'isbot package version whose list decided the bot rule in the batch hour' })),
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
    signalsCorrected: Type.Union([Counts, Type.Null()], {
      description:
        "User signals of the hour the batch layer rewrote with its verdict when it computed it: verdict (validity or reason), late (the speed layer had it late), duplicate (a copy beyond the dedupe horizon dropped); null without batch",
    }),
    other: Counts,
    named: Type.Array(
      Type.Object({
        cause: Type.Union(
          [Type.Literal('late_events'), Type.Literal('duplicates_beyond_dedupe_horizon'), Type.Literal('ip_flood_arrival_order'), Type.Literal('invalid_reclassified'), Type.Literal('signals_corrected')],
          {
            description:
              'late_events: kept out of closed windows by the speed layer; duplicates_beyond_dedupe_horizon: copies real time no longer recognised; ' +
              'ip_flood_arrival_order: the per-IP flood rule spans partitions, real time judges it in arrival order, batch by event time; ' +
              'invalid_reclassified: another invalid reason (see reason); signals_corrected: user signals the batch layer rewrote with its verdict (reason: what changed; speed: how many)',
          },
        ),
        reason: Type.Optional(Type.String()),
        speed: Type.Number(),
        batch: Type.Number(),
      }),
      { description: 'The named causes whose counts differ between the layers (empty without batch)' },
    ),
  }),
  changes: Type.Unknown({
    description:
      'The same comparison (same sign, diff = speed - batch) as the batch layer recorded it when it computed or last reconciled the served version; null when none',
  }),
});

/** `GET /v1/reconciliation` (register with that prefix): speed vs batch per hour and campaign, with causes. */
export const reconciliationRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Speed vs batch per hour and campaign, with the causes of the differences',
        description:
          'Whole hours covering [from, to). For each hour and campaign: impressions, clicks, invalid touchpoints and the ' +
          "model's attributed conversions and revenue in both layers, diff = speed - batch and relDiff = diff / batch " +
          '(batch values are null for hours the batch layer has not computed), and the causes both layers counted: late ' +
          'events (speed only), duplicates, invalid traffic by reason, the Shapley table and isbot versions.',
        security: [{ apiKey: [] }],
        querystring: Type.Object(
          { ...RangeQuery, campaignId: Type.Optional(Id('Only this campaign (default: every campaign)')), model: Type.Optional(Model) },
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
    async (request) => reconciliation(ctx, queryRange(ctx, request.query), request.query.campaignId ?? null, request.query.model ?? 'last_touch'),
  );
};
