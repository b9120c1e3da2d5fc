import Type from 'typebox';
import { alertMetrics, alertNamePattern, alertOps, InvalidAlertRuleError, maxAlertFor, parseAlertRule, realTimeModels } from '@sigflow/core';
import { allowListOf, checkWebhookTarget, maxWebhookUrlLength, WebhookTargetError } from '@sigflow/alerts';
import { DefinitionLimitError } from '@sigflow/store';
import { alertRuleRecord } from '@sigflow/store/ops';
import { deleteAlertRule, putAlertRule, readAlertEpisodes, readAlertRule, readAlertRules, type StoredAlertRule } from '@sigflow/store/segments-alerts';
import type { ApiContext, RoutePlugin } from '../context.js';
import { BadParameterError, NotFoundError } from '../errors.js';
import { Nullable, errorResponses } from '../http/schemas.js';
import { descriptionOf } from '../http/params.js';

const Params = Type.Object({ name: Type.String({ pattern: alertNamePattern.source, description: 'Rule name: 1-64 of a-z 0-9 _ -' }) });
const Condition = Type.Object(
  {
    op: Type.Enum([...alertOps], { description: '< <= > >= compare the window with the threshold; drop_pct: a drop of at least threshold % against the trailing hour' }),
    threshold: Type.Number(),
  },
  { additionalProperties: false },
);
const RuleFields = {
  metric: Type.Enum([...alertMetrics], { description: 'ctr, invalid_share, spend_pace or conversions, per campaign and window' }),
  // Checked by core's parseAlertRule (a JSON string / integer: the schema would convert other types).
  campaign: Type.Optional(Type.Unknown({ description: 'A campaign id, or * (default): every campaign, each with its own episodes' })),
  condition: Condition,
  for: Type.Optional(Type.Unknown({ description: `Consecutive windows the condition must hold: an integer 1-${maxAlertFor} (default 1)` })),
  model: Type.Optional(Type.Enum([...realTimeModels], { description: 'conversions only: the attribution model (default last_touch)' })),
  description: Type.Optional(Type.Unknown({ description: 'Free text, at most 500 characters' })),
};
const PutBody = Type.Object(
  {
    ...RuleFields,
    webhook: Type.Object(
      {
        url: Type.String({ minLength: 1, maxLength: maxWebhookUrlLength, description: 'http(s), no credentials, every address of its host outside private, loopback and link-local ranges (unless SIGFLOW_ALERTS_WEBHOOK_ALLOW allows it)' }),
        secret: Type.String({ minLength: 16, maxLength: 256, description: 'Key of the X-Sigflow-Signature HMAC-SHA256 (never served back)' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const RuleReply = Type.Object({
  name: Type.String(),
  metric: Type.String(),
  campaign: Type.String(),
  condition: Condition,
  for: Type.Integer(),
  model: Type.String(),
  description: Type.String(),
  webhook: Type.Object({ url: Type.String(), secretSet: Type.Boolean() }),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
const Delivery = Type.Object({
  state: Type.Enum(['pending', 'delivered', 'failed'], { description: 'failed: the last attempt failed, or the target is refused (dead letter)' }),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  at: Nullable(Type.Integer()),
  status: Nullable(Type.Integer({ description: 'HTTP status of the last answer' })),
});
const Episode = Type.Object({
  id: Type.String(),
  rule: Type.String(),
  campaign: Type.String(),
  metric: Type.String(),
  condition: Condition,
  for: Type.Integer(),
  state: Type.Enum(['firing', 'resolved']),
  firedWindow: Type.Integer({ description: 'Start of the window that made it fire (event time)' }),
  firedValue: Nullable(Type.Number()),
  firedTrailing: Nullable(Type.Number({ description: "drop_pct: the trailing hour's value" })),
  firedAt: Type.Integer({ description: 'Wall clock when it fired' }),
  resolvedWindow: Nullable(Type.Integer()),
  resolvedValue: Nullable(Type.Number()),
  resolvedAt: Nullable(Type.Integer()),
  deliveries: Type.Object({ fired: Type.Optional(Delivery), resolved: Type.Optional(Delivery) }),
});

/** A rule as served: its webhook's secret never leaves. */
function served(rule: StoredAlertRule) {
  const { webhook, ...rest } = rule;
  return { ...rest, webhook: { url: webhook.url, secretSet: webhook.secret.length > 0 } };
}

async function checkedRule(ctx: ApiContext, name: string, body: { readonly webhook: { url: string; secret: string }; readonly description?: unknown }): Promise<StoredAlertRule> {
  const description = descriptionOf(body.description);
  let rule;
  try {
    rule = parseAlertRule(body, ['webhook', 'description']);
  } catch (err) {
    if (err instanceof InvalidAlertRuleError) throw new BadParameterError(err.path.split('/').filter(Boolean).join('.') || 'body', err.message);
    throw err;
  }
  try {
    await checkWebhookTarget(body.webhook.url, allowListOf(ctx.config.alerts.webhookAllow));
  } catch (err) {
    if (err instanceof WebhookTargetError) throw new BadParameterError('webhook.url', `webhook.url: ${err.message}`);
    throw err;
  }
  const now = ctx.now();
  const before = await readAlertRule(ctx.redis, ctx.keys, name);
  return { ...rule, name, description, webhook: { url: body.webhook.url, secret: body.webhook.secret }, createdAt: before?.createdAt ?? now, updatedAt: now };
}

/** Alerts (register with prefix `/v1/alerts`): rules by ops, the episodes they fired. */
export const alertRoutes: RoutePlugin = async (app, { ctx }) => {
  const tags = ['alerts'];
  const security = [{ apiKey: [] }];
  app.put(
    '/rules/:name',
    { config: { role: 'ops' }, schema: { tags, security, summary: 'Create or change an alert rule', description: 'A bad rule is answered 400 naming the field (webhook.url for a target that is refused).', params: Params, body: PutBody, response: { 200: RuleReply, 201: RuleReply, ...errorResponses } } },
    async (request, reply) => {
      const rule = await checkedRule(ctx, request.params.name, request.body);
      try {
        const created = await putAlertRule(ctx.redis, ctx.keys, rule, ctx.config.alerts.maxRules);
        await ctx.ops.record([alertRuleRecord(rule.name, rule, rule.updatedAt)]);
        return reply.code(created ? 201 : 200).send(served(rule));
      } catch (err) {
        if (err instanceof DefinitionLimitError) throw new BadParameterError('name', err.message);
        throw err;
      }
    },
  );
  app.get('/rules', { config: { role: 'ops' }, schema: { tags, security, summary: 'Every alert rule', response: { 200: Type.Object({ rules: Type.Array(RuleReply) }), ...errorResponses } } }, async () => ({
    rules: (await readAlertRules(ctx.redis, ctx.keys)).map(served),
  }));
  app.get('/rules/:name', { config: { role: 'ops' }, schema: { tags, security, summary: 'An alert rule', params: Params, response: { 200: RuleReply, 404: errorResponses[400], ...errorResponses } } }, async (request) => {
    const rule = await readAlertRule(ctx.redis, ctx.keys, request.params.name);
    if (!rule) throw new NotFoundError(`no alert rule named ${JSON.stringify(request.params.name)}`);
    return served(rule);
  });
  app.delete('/rules/:name', { config: { role: 'ops' }, schema: { tags, security, summary: 'Delete an alert rule (its open episodes are not resolved)', params: Params, response: { 200: Type.Object({ deleted: Type.String() }), 404: errorResponses[400], ...errorResponses } } }, async (request) => {
    if (!(await deleteAlertRule(ctx.redis, ctx.keys, request.params.name))) throw new NotFoundError(`no alert rule named ${JSON.stringify(request.params.name)}`);
    await ctx.ops.record([alertRuleRecord(request.params.name, null, ctx.now())]);
    return { deleted: request.params.name };
  });
  app.get(
    '/',
    {
      config: { role: 'reader' },
      schema: {
        tags,
        security,
        summary: 'Alert episodes, newest first',
        description: 'state=firing: open episodes; resolved: ended ones; failed: episodes with a delivery that failed for good. Without state: every recent episode.',
        querystring: Type.Object({ state: Type.Optional(Type.Enum(['firing', 'resolved', 'failed'])), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ alerts: Type.Array(Episode) }), ...errorResponses },
      },
    },
    async (request) => {
      const { state, limit } = request.query;
      const all = await readAlertEpisodes(ctx.redis, ctx.keys, ctx.config.alerts.keepEpisodes);
      const wanted = all.filter((e) => (state === undefined ? true : state === 'failed' ? Object.values(e.deliveries).some((d) => d?.state === 'failed') : e.state === state));
      return { alerts: wanted.slice(0, limit) };
    },
  );
};
