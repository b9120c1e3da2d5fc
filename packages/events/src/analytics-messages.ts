import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * The messages of `analytics.v1`, the speed layer's output topic (key: the user id; value: one
 * of these as JSON). The speed layer builds them as these types; consumers validate with
 * {@link analyticsMessageProblem}. Fields are snake_case like the events'.
 */

/** One touchpoint's credit in a model (`touchpoint_event_id` null: the conversion had no path, `direct`). */
const Credit = Type.Object(
  {
    touchpoint_event_id: Type.Union([Type.String(), Type.Null()]),
    touchpoint_ts: Type.Union([Type.Integer(), Type.Null()]),
    campaign_id: Type.String(),
    ad_id: Type.String(),
    channel: Type.String(),
    fraction: Type.Number({ minimum: 0, maximum: 1 }),
    revenue: Type.Number(),
  },
  { additionalProperties: false },
);

/** A conversion as the speed layer attributed it, with the credits of every real-time model. */
export const AttributedConversionMessage = Type.Object(
  {
    conversion_event_id: Type.String({ minLength: 1 }),
    user_id: Type.String({ minLength: 1 }),
    ts: Type.Integer({ minimum: 0 }),
    window_start: Type.Integer({ minimum: 0 }),
    value: Type.Number({ minimum: 0 }),
    path_length: Type.Integer({ minimum: 0 }),
    shapley_version: Type.Union([Type.String(), Type.Null()]),
    shapley_fallback: Type.Union([Type.Literal('no_table'), Type.Literal('too_many_channels'), Type.Null()]),
    credits: Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Type.Immutable(Type.Array(Credit)), { minProperties: 1 }),
  },
  { additionalProperties: false },
);
export type AttributedConversionMessage = Static<typeof AttributedConversionMessage>;

/** A user's entry to or exit from a segment (a lapse is published at the user's next event, dated when it happened). */
export const SegmentChangeMessage = Type.Object(
  {
    kind: Type.Union([Type.Literal('segment_entered'), Type.Literal('segment_left')]),
    user_id: Type.String({ minLength: 1 }),
    segment: Type.String({ minLength: 1 }),
    segment_id: Type.String({ minLength: 1 }),
    segment_version: Type.Integer({ minimum: 1 }),
    at: Type.Integer({ minimum: 0 }),
    reason: Type.Union([Type.Literal('rule'), Type.Literal('lapsed'), Type.Literal('deleted')]),
    entered_at: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type SegmentChangeMessage = Static<typeof SegmentChangeMessage>;

export const AnalyticsMessageSchema = Type.Union([AttributedConversionMessage, SegmentChangeMessage]);
export type AnalyticsMessageValue = Static<typeof AnalyticsMessageSchema>;

const check = Compile(AnalyticsMessageSchema);

/** Why a parsed `analytics.v1` value is not one of its messages (the first error's path and message), or null. */
export function analyticsMessageProblem(value: unknown): string | null {
  if (check.Check(value)) return null;
  const [first] = check.Errors(value);
  return first ? `${first.instancePath || '/'}: ${first.message}` : 'not an analytics.v1 message';
}
