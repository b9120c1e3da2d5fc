import Type from 'typebox';
import { budgetLimits, isKnownTimeZone } from '@sigflow/core';
import { budgetChangesKept, changeBudget, deleteBiddingState, deletePublishedMark, readBudget, readBudgetChanges, type StoredBudget } from '@sigflow/store/bidding';
import { budgetRecords } from '@sigflow/store/ops';
import { keyIdentityOf } from '../auth/auth-hooks.js';
import type { ApiContext, RoutePlugin } from '../context.js';
import { BadParameterError, NotFoundError } from '../errors.js';
import { Id, Nullable, errorResponses } from '../http/schemas.js';

const KeyIdentity = Type.Object({
  key: Type.String({ description: 'The API key that made the change, named by 12 hex digits of its SHA-256 (never the key itself)' }),
  role: Type.String(),
});

const BudgetView = Type.Object({
  campaignId: Type.String(),
  dailyBudgetMicros: Type.Integer({ description: 'Integer micros of the campaign currency per budget day' }),
  timeZone: Type.String({ description: 'IANA zone of the budget day' }),
  targetRoas: Type.Number(),
  updatedAt: Type.Integer(),
  updatedBy: KeyIdentity,
});

const BudgetFields = Type.Object({ dailyBudgetMicros: Type.Integer(), timeZone: Type.String(), targetRoas: Type.Number(), updatedAt: Type.Integer(), updatedBy: KeyIdentity });

const BudgetBody = Type.Object(
  {
    dailyBudgetMicros: Type.Integer({ minimum: 0, maximum: budgetLimits.maxDailyBudgetMicros, description: 'Daily budget, integer micros (1 EUR = 1000000)' }),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone whose calendar day the budget runs over (default UTC)' })),
    targetRoas: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: budgetLimits.maxTargetRoas, description: 'Target return on ad spend (default 1.0)' })),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ campaignId: Id('Campaign id') });

function budgetView(campaignId: string, b: StoredBudget) {
  return { campaignId, dailyBudgetMicros: b.dailyBudgetMicros, timeZone: b.timeZone, targetRoas: b.targetRoas, updatedAt: b.updatedAt, updatedBy: b.updatedBy };
}

async function existingBudget(ctx: ApiContext, campaignId: string): Promise<StoredBudget> {
  const budget = await readBudget(ctx.redis, ctx.keys, campaignId);
  if (!budget) throw new NotFoundError(`campaign ${JSON.stringify(campaignId)} has no budget; PUT /v1/campaigns/${encodeURIComponent(campaignId)}/budget (role ops) sets one`);
  return budget;
}

/**
 * Campaign budgets (register with prefix `/v1/campaigns`): ops set, change and remove a
 * campaign's daily budget, its time zone and target ROAS; every change is logged with the key
 * that made it (named by a digest, never the key) and listed by `GET .../budget/changes`.
 */
export const budgetRoutes: RoutePlugin = async (app, { ctx }) => {
  const tagged = { tags: ['bidding'], security: [{ apiKey: [] }] };

  app.get(
    '/:campaignId/budget',
    { config: { role: 'analyst' }, schema: { ...tagged, summary: "A campaign's daily budget, time zone and target ROAS", params: Params, response: { 200: BudgetView, 404: errorResponses[400], ...errorResponses } } },
    async (request) => budgetView(request.params.campaignId, await existingBudget(ctx, request.params.campaignId)),
  );

  app.put(
    '/:campaignId/budget',
    {
      config: { role: 'ops' },
      schema: {
        ...tagged,
        summary: "Set a campaign's daily budget, time zone and target ROAS",
        description: 'Replaces the whole budget (omitted fields take their defaults: UTC, target ROAS 1.0). The change is logged with the key that made it.',
        params: Params,
        body: BudgetBody,
        response: { 200: Type.Object({ ...BudgetView.properties, previous: Nullable(BudgetFields) }), ...errorResponses },
      },
    },
    async (request) => {
      const { campaignId } = request.params;
      const { dailyBudgetMicros, timeZone = 'UTC', targetRoas = ctx.config.bidding.rules.defaultTargetRoas } = request.body;
      if (!isKnownTimeZone(timeZone)) throw new BadParameterError('timeZone', `timeZone must be an IANA time zone name such as UTC or Europe/Berlin, got ${JSON.stringify(timeZone)}`);
      const by = keyIdentityOf(request);
      const at = ctx.now();
      const budget: StoredBudget = { dailyBudgetMicros, timeZone, targetRoas, updatedAt: at, updatedBy: by };
      const previous = await changeBudget(ctx.redis, ctx.keys, campaignId, budget, { at, by });
      await ctx.ops.record(budgetRecords(campaignId, previous, budget, { at, by }));
      request.log.info({ campaignId, by, before: previous, after: budget }, 'campaign budget set');
      return { ...budgetView(campaignId, budget), previous };
    },
  );

  app.delete(
    '/:campaignId/budget',
    { config: { role: 'ops' }, schema: { ...tagged, summary: "Remove a campaign's budget (it gets no bidding answers or messages any more)", params: Params, response: { 204: Type.Null(), 404: errorResponses[400], ...errorResponses } } },
    async (request, reply) => {
      const { campaignId } = request.params;
      await existingBudget(ctx, campaignId);
      const by = keyIdentityOf(request);
      const at = ctx.now();
      const previous = await changeBudget(ctx.redis, ctx.keys, campaignId, null, { at, by });
      await ctx.ops.record(budgetRecords(campaignId, previous, null, { at, by }));
      await Promise.all([deleteBiddingState(ctx.redis, ctx.keys, campaignId), deletePublishedMark(ctx.redis, ctx.keys, campaignId)]);
      request.log.info({ campaignId, by, before: previous, after: null }, 'campaign budget removed');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/:campaignId/budget/changes',
    {
      config: { role: 'analyst' },
      schema: {
        ...tagged,
        summary: "A campaign's budget changes, newest first: before, after, when and which key",
        params: Params,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: budgetChangesKept, description: `At most this many (default 100; the newest ${budgetChangesKept} are kept)` })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            campaignId: Type.String(),
            changes: Type.Array(Type.Object({ at: Type.Integer(), by: KeyIdentity, before: Nullable(BudgetFields), after: Nullable(BudgetFields) })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { campaignId } = request.params;
      return { campaignId, changes: await readBudgetChanges(ctx.redis, ctx.keys, campaignId, request.query.limit ?? 100) };
    },
  );
};
