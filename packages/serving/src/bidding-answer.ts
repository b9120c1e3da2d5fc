import Type, { type Static } from 'typebox';
import type { CampaignBidding } from '@sigflow/core';
import type { RowSource } from './merge-rule.js';

// The bidding answer: what `GET /v1/bidding/:campaignId` serves and `bidding.v1` carries. One
// contract for the bidding service (which builds and serializes it), the API (which serves it
// as stored and documents it) and consumers of the topic.

const Source = Type.Enum(['batch', 'speed', 'mixed'], { description: 'Where the figures come from: batch views (window end <= batch watermark), speed views, or both' });
const NullableNumber = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

export const MultiplierInputsSchema = Type.Object({
  spendMicros: Type.Number({ description: 'Spend of the channel in the trailing window W (micros)' }),
  revenue: Type.Number({ description: 'Revenue attributed to the channel by model M in W (currency units)' }),
  clicks: Type.Number({ description: 'Valid clicks of the channel in W' }),
  roas: NullableNumber('revenue / spend in W (spend in currency units); null without spend'),
  targetRoas: Type.Number(),
  minClicks: Type.Number({ description: 'Fewer valid clicks in W: multiplier 1, reason insufficient_data' }),
  pace: NullableNumber("The campaign's pace today"),
  roasFactor: NullableNumber('clamp(roas / targetRoas, 0.25, 4); null when not applied'),
  paceFactor: NullableNumber('clamp(1 / pace, 0.5, 1.5); null when not applied'),
});

export const ChannelAnswerSchema = Type.Object({
  channel: Type.String(),
  multiplier: Type.Number({ description: 'Bid multiplier, rounded to 0.01; 0 once the budget is exhausted' }),
  reason: Type.Enum(['exhausted', 'insufficient_data', 'roas_and_pace']),
  roas: NullableNumber('ROAS in the trailing window (as in inputs)'),
  spendTodayMicros: Type.Number(),
  invalidSpendTodayMicros: Type.Number({ description: 'Cost of invalid traffic today: refund claims' }),
  inputs: MultiplierInputsSchema,
  source: Source,
});

export const BiddingAnswerSchema = Type.Object({
  campaignId: Type.String(),
  at: Type.Integer({ description: 'When it was computed (ms); the bidding service recomputes every campaign every second' }),
  status: Type.Enum(['exhausted', 'over', 'under', 'on'], { description: 'exhausted once spend today >= budget, else over (pace > 1.1), under (< 0.9), on' }),
  pace: NullableNumber('spend today / (budget x elapsed fraction of the day); null before anything was to be spent'),
  budget: Type.Object({
    dailyBudgetMicros: Type.Integer(),
    timeZone: Type.String(),
    targetRoas: Type.Number(),
    updatedAt: Type.Integer(),
  }),
  day: Type.Object({ start: Type.Integer(), end: Type.Integer(), elapsed: Type.Number({ description: 'Fraction of the budget day gone, 0..1' }) }),
  spendToday: Type.Object({ micros: Type.Number(), invalidMicros: Type.Number(), source: Source }),
  window: Type.Object({
    from: Type.Integer({ description: 'The trailing window W: windows starting in [from, to]' }),
    to: Type.Integer(),
    model: Type.String({ description: 'Attribution model M of the revenue' }),
    source: Source,
  }),
  batchWatermark: Type.Union([Type.Integer(), Type.Null()]),
  channels: Type.Array(ChannelAnswerSchema),
});

export type BiddingAnswer = Static<typeof BiddingAnswerSchema>;

/** What the answer says besides core's figures. */
export interface AnswerContext {
  readonly campaignId: string;
  readonly budget: { readonly dailyBudgetMicros: number; readonly timeZone: string; readonly targetRoas: number; readonly updatedAt: number };
  readonly model: string;
  readonly batchWatermark: number | null;
  readonly sources: { readonly today: RowSource; readonly window: RowSource };
}

/** The answer of one campaign from core's figures. */
export function biddingAnswer(b: CampaignBidding, ctx: AnswerContext): BiddingAnswer {
  const { dailyBudgetMicros, timeZone, targetRoas, updatedAt } = ctx.budget;
  return {
    campaignId: ctx.campaignId,
    at: b.at,
    status: b.status,
    pace: b.pace,
    budget: { dailyBudgetMicros, timeZone, targetRoas, updatedAt },
    day: { start: b.ranges.day.start, end: b.ranges.day.end, elapsed: b.elapsed },
    spendToday: { micros: b.spendTodayMicros, invalidMicros: b.invalidSpendTodayMicros, source: ctx.sources.today },
    window: { from: b.ranges.window.from, to: b.ranges.window.to, model: ctx.model, source: ctx.sources.window },
    batchWatermark: ctx.batchWatermark,
    channels: b.channels.map((c) => ({
      channel: c.channel,
      multiplier: c.multiplier,
      reason: c.reason,
      roas: c.inputs.roas,
      spendTodayMicros: c.spendTodayMicros,
      invalidSpendTodayMicros: c.invalidSpendTodayMicros,
      inputs: c.inputs,
      source: ctx.sources.window,
    })),
  };
}

/** What changed since the last message of a campaign, and what it was. */
export const BiddingChangeSchema = Type.Object({
  changed: Type.Array(Type.String(), { description: '`status` and/or `multiplier:<channel>` (everything, in the first message of a campaign)' }),
  previous: Type.Union([
    Type.Object({ status: Type.String(), multipliers: Type.Record(Type.String(), Type.Number()) }),
    Type.Null(),
  ]),
});

/** A `bidding.v1` message: the answer with what changed (key = campaign id). */
export type BiddingMessage = BiddingAnswer & Static<typeof BiddingChangeSchema>;
