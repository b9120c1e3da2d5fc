import Type from 'typebox';
import type { FastifyReply } from 'fastify';
import { BiddingAnswerSchema } from '@sigflow/serving';
import { readBiddingStates, readBudget, readBudgets } from '@sigflow/store/bidding';
import type { ApiContext, RoutePlugin } from '../context.js';
import { NotFoundError } from '../errors.js';
import { Id, errorResponses } from '../http/schemas.js';

const description =
  'Pacing and bid multipliers, recomputed every second by the bidding service for every campaign with a budget (DESIGN.md ' +
  '"Spend and pacing", "Bid multiplier"). status: exhausted once spend today >= budget (multiplier 0), else over (pace > 1.1), ' +
  'under (pace < 0.9) or on. Per channel: multiplier = clamp(roas / targetRoas, 0.25, 4) x clamp(1 / pace, 0.5, 1.5), rounded ' +
  'to 0.01, over the trailing window (default 1 h) and model (default shapley); 1 with reason insufficient_data under 20 valid ' +
  'clicks in the window. Every figure carries its inputs and source (batch views up to the batch watermark, speed after). ' +
  'The answer is stored serialized and sent as is: one Redis round trip, or none while the answer is unchanged (each API process ' +
  'keeps the answers it served, invalidated by Redis the moment one is rewritten, never older than a second or past its TTL).';

// The answers are sent as the bidding service serialized them: the schemas document their shape,
// the payload is that JSON text (typed as the string it is).
const AnswerText = Type.Unsafe<string>(BiddingAnswerSchema);
const ListText = Type.Unsafe<string>(Type.Object({ campaigns: Type.Array(BiddingAnswerSchema), pending: Type.Array(Type.String()) }));

/** 503 while a budgeted campaign has no answer yet (the service has not run since), or 404 without a budget. */
async function noAnswer(ctx: ApiContext, campaignId: string, reply: FastifyReply): Promise<FastifyReply> {
  if (!(await readBudget(ctx.redis, ctx.keys, campaignId))) {
    throw new NotFoundError(`campaign ${JSON.stringify(campaignId)} has no budget, so no bidding answer; PUT /v1/campaigns/${encodeURIComponent(campaignId)}/budget (role ops) sets one`);
  }
  return reply
    .code(503)
    .header('retry-after', '1')
    .send({ error: `no bidding answer for campaign ${JSON.stringify(campaignId)} yet: the bidding service computes every budgeted campaign every second (is it running?)`, statusCode: 503 });
}

/**
 * Bidding (register with prefix `/v1/bidding`), for bidders (role reader): a campaign's answer in
 * one Redis round trip, sent as the bidding service serialized it; and every budgeted campaign's.
 */
export const biddingRoutes: RoutePlugin = async (app, { ctx }) => {
  const tagged = { tags: ['bidding'], security: [{ apiKey: [] }] };

  app.get(
    '/:campaignId',
    {
      config: { role: 'reader' },
      schema: {
        ...tagged,
        summary: "A campaign's pacing, budget, spend, and per channel ROAS and bid multiplier with inputs, reason and source",
        description,
        params: Type.Object({ campaignId: Id('Campaign id') }),
        response: { 200: AnswerText, 404: errorResponses[400], ...errorResponses },
      },
    },
    async (request, reply) => {
      const json = await ctx.biddingAnswers.read(request.params.campaignId);
      if (json === null) return noAnswer(ctx, request.params.campaignId, reply);
      // Pre-serialized: a string with a JSON content type is sent as is.
      return reply.type('application/json; charset=utf-8').send(json);
    },
  );

  app.get(
    '',
    {
      config: { role: 'reader' },
      schema: {
        ...tagged,
        summary: 'The bidding answers of every campaign with a budget',
        description: 'pending lists the budgeted campaigns the bidding service has not answered yet.',
        response: { 200: ListText, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const ids = [...(await readBudgets(ctx.redis, ctx.keys)).keys()].sort();
      const states = await readBiddingStates(ctx.redis, ctx.keys, ids);
      const answered = states.filter((s): s is string => s !== null);
      const pending = ids.filter((_, i) => states[i] === null);
      return reply.type('application/json; charset=utf-8').send(`{"campaigns":[${answered.join(',')}],"pending":${JSON.stringify(pending)}}`);
    },
  );
};
