import Type from 'typebox';
import { Model, Nullable, Source, TimeParam } from './schemas.js';

/** What every merged analyst answer says about where its numbers come from. */
export const mergeNote =
  'Windows (tumbling, rules.windowMs) whose start lies in [from, to) are served; a window comes from the batch views when ' +
  'its end is at or before the batch watermark (the version batchHours names for its hour; an hour without a version has no ' +
  'rows), otherwise from the speed views. Buckets of several windows that straddle the watermark say source=mixed. ' +
  'Only buckets with data are listed.';

/** `from` / `to` of an analyst query (default: the last hour). */
export const RangeQuery = {
  from: Type.Optional(TimeParam('Range start, inclusive (default: to - 1 h)')),
  to: Type.Optional(TimeParam('Range end, exclusive (default: now)')),
};

export const Watermark = Nullable(Type.Integer({ description: 'Event time (ms) up to which batch views are authoritative; null before the first batch run' }));

/** Counts by name (causes, counters). */
export const Counts = Type.Record(Type.String(), Type.Number());

export const AttributionRow = Type.Object({
  start: Type.Integer(),
  end: Type.Integer(),
  key: Type.String({ description: 'Channel or campaign id (groupBy); direct / none for conversions with an empty path' }),
  conversions: Type.Number({ description: 'Attributed conversions (sum of credit fractions)' }),
  revenue: Type.Number(),
  source: Source,
});

/** The query of `GET /v1/attribution` and its exports. */
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
