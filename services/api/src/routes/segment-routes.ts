import Type from 'typebox';
import { InvalidSegmentRuleError, parseSegmentRule, segmentIdOf, segmentNamePattern, type SegmentDefinition } from '@sigflow/core';
import { DefinitionLimitError, ReadLimitError } from '@sigflow/store';
import { segmentRecord } from '@sigflow/store/ops';
import { deleteSegmentDefinition, dropSegmentViews, putSegmentDefinition, readSegmentBatchMembersState, readSegmentDefinition, readSegmentDefinitions, readSegmentMembers, readSegmentSizes, readSpeedClock } from '@sigflow/store/segments-alerts';
import { segmentSizeRows } from '@sigflow/serving';
import type { ApiContext, RoutePlugin } from '../context.js';
import { BadParameterError, NotFoundError } from '../errors.js';
import { descriptionOf, parseRange } from '../http/params.js';
import { Nullable, TimeParam, errorResponses } from '../http/schemas.js';

/** A rule, as stored (the grammar is checked by core's `parseSegmentRule`, not by this schema). */
const ruleSchema = Type.Unknown({ description: 'The rule: {"all"|"any": [condition | group, ...]}, condition = {"feature", "op", "value"}' });

const SegmentName = Type.String({ pattern: segmentNamePattern.source, description: 'Segment name: 1-64 of a-z 0-9 _ -, starting with a letter or digit' });
const Params = Type.Object({ name: SegmentName });

const Definition = Type.Object({
  name: Type.String(),
  id: Type.String({ description: 'Identity: a segment deleted and created again under the same name is a new one' }),
  version: Type.Integer({ description: 'Goes up one with every change of the rule' }),
  rule: ruleSchema,
  description: Type.String(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

const PutBody = Type.Object(
  {
    rule: Type.Unknown({ description: 'The rule: {"all": [...]} or {"any": [...]} of {feature, op, value} and nested groups (see the rule schema in the answer)' }),
    description: Type.Optional(Type.Unknown({ description: 'Free text, at most 500 characters (a JSON string: other types are refused, not converted)' })),
  },
  { additionalProperties: false },
);

const Member = Type.Object({
  userId: Type.String(),
  entered: Type.Integer({ description: 'Event time of the event at which the user entered' }),
  expiresAt: Type.Integer({ description: 'Event time at which the membership lapses without a further event of the user' }),
});

const MembersQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 400, description: "The previous page's nextCursor" })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    source: Type.Enum(['speed', 'batch'], { default: 'speed', description: 'speed: members now; batch: as of the end of the last reprocess' }),
  },
  { additionalProperties: false },
);

const SizeQuery = Type.Object(
  {
    from: Type.Optional(TimeParam('Range start, inclusive (default: to - 24 h)')),
    to: Type.Optional(TimeParam('Range end, exclusive (default: now)')),
    granularity: Type.Enum(['minute', 'hour', 'day'], { default: 'hour', description: 'Bucket: size at the end of each bucket, entries and exits summed' }),
  },
  { additionalProperties: false },
);

/** The cursor of a members page: the last user id, base64url (opaque to clients). */
const encodeCursor = (userId: string) => Buffer.from(userId).toString('base64url');
function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new BadParameterError('cursor', 'cursor must be a nextCursor of a previous page');
  return Buffer.from(cursor, 'base64url').toString();
}

async function existing(ctx: ApiContext, name: string): Promise<SegmentDefinition> {
  const definition = await readSegmentDefinition(ctx.redis, ctx.keys, name);
  if (!definition) throw new NotFoundError(`no segment named ${JSON.stringify(name)}`);
  return definition;
}

function checkedRule(ctx: ApiContext, rule: unknown) {
  const { maxConditions, maxDepth, maxValues } = ctx.config.segments;
  try {
    return parseSegmentRule(rule, { maxConditions, maxDepth, maxValues });
  } catch (err) {
    if (err instanceof InvalidSegmentRuleError) throw new BadParameterError(`rule${err.path}`, err.message);
    throw err;
  }
}

/** User segments (register with prefix `/v1/segments`): definitions by ops, members and sizes. */
export const segmentRoutes: RoutePlugin = async (app, { ctx }) => {
  const tags = ['segments'];
  const security = [{ apiKey: [] }];
  app.get('/', { config: { role: 'reader' }, schema: { tags, security, summary: 'Every segment definition', response: { 200: Type.Object({ version: Type.Integer({ description: 'Moves with every change' }), segments: Type.Array(Definition) }), ...errorResponses } } }, async () => {
    const { version, definitions } = await readSegmentDefinitions(ctx.redis, ctx.keys);
    return { version, segments: definitions };
  });

  app.get('/:name', { config: { role: 'reader' }, schema: { tags, security, summary: "A segment's definition", params: Params, response: { 200: Definition, 404: errorResponses[400], ...errorResponses } } }, async (request) => existing(ctx, request.params.name));

  app.put(
    '/:name',
    {
      config: { role: 'ops' },
      schema: {
        tags,
        security,
        summary: 'Create or change a segment (applies from each user\'s next event)',
        description:
          'The rule is data in a small language, checked against its grammar and never evaluated as code: a group {"all": [...]} or {"any": [...]} of ' +
          'conditions {"feature", "op", "value"} and nested groups. Features: engagement_score, count:<event type>:<1h|24h|7d>, count:track:<event name>:<1h|24h|7d>, trait:<name>, last_conversion_age_s, ' +
          'channels, flagged; ops > >= < <= == != in. A bad rule is answered 400 naming its place (parameter rule/all/0/value).',
        params: Params,
        body: PutBody,
        response: { 200: Definition, 201: Definition, ...errorResponses },
      },
    },
    async (request, reply) => {
      const rule = checkedRule(ctx, request.body.rule);
      const description = descriptionOf(request.body.description);
      const now = ctx.now();
      const input = { name: request.params.name, rule, description, now, newId: segmentIdOf(request.params.name, now), max: ctx.config.segments.maxSegments };
      try {
        const { definition, created } = await putSegmentDefinition(ctx.redis, ctx.keys, input);
        await ctx.ops.record([segmentRecord(definition.name, definition, now)]);
        return reply.code(created ? 201 : 200).send(definition);
      } catch (err) {
        if (err instanceof DefinitionLimitError) throw new BadParameterError('name', err.message);
        throw err;
      }
    },
  );

  app.delete('/:name', { config: { role: 'ops' }, schema: { tags, security, summary: 'Delete a segment (its members leave at their next event)', params: Params, response: { 200: Type.Object({ deleted: Type.String() }), 404: errorResponses[400], ...errorResponses } } }, async (request) => {
    const definition = await existing(ctx, request.params.name);
    if (!(await deleteSegmentDefinition(ctx.redis, ctx.keys, definition.name))) throw new NotFoundError(`no segment named ${JSON.stringify(definition.name)}`);
    await ctx.ops.record([segmentRecord(definition.name, null, ctx.now())]);
    await dropSegmentViews(ctx.redis, ctx.keys, definition.id, ctx.config.kafka.eventPartitions);
    return { deleted: definition.name };
  });

  registerMembers(app, ctx);
  registerSize(app, ctx);
};

function registerMembers(app: Parameters<RoutePlugin>[0], ctx: ApiContext): void {
  const Reply = Type.Object({
    segment: Type.String(),
    version: Type.Integer({ description: 'Definition version now (batch: the one the members were computed under)' }),
    source: Type.Enum(['speed', 'batch']),
    asOf: Nullable(Type.Integer({ description: 'Event time the members are as of (speed: the newest event seen)' })),
    members: Type.Array(Member, { description: 'Ordered by user id' }),
    nextCursor: Nullable(Type.String({ description: 'Pass as cursor for the next page; null after the last' })),
  });
  app.get(
    '/:name/members',
    { config: { role: 'reader' }, schema: { tags: ['segments'], security: [{ apiKey: [] }], summary: "A page of a segment's members (activation)", params: Params, querystring: MembersQuery, response: { 200: Reply, 404: errorResponses[400], ...errorResponses } } },
    async (request) => {
      const q = request.query;
      const after = decodeCursor(q.cursor);
      const definition = await existing(ctx, request.params.name);
      const batch = q.source === 'batch' ? await readSegmentBatchMembersState(ctx.redis, ctx.keys, definition.id) : null;
      const asOf = batch ? batch.asOf : await readSpeedClock(ctx.redis, ctx.keys, ctx.config.kafka.eventPartitions, ctx.config.rules.watermarkDelayMs);
      const page =
        q.source === 'batch' && !batch
          ? { members: [], next: null }
          : await readSegmentMembers(ctx.redis, ctx.keys, { segmentId: definition.id, source: q.source, partitions: ctx.config.kafka.eventPartitions, after, limit: q.limit, asOf: asOf ?? ctx.now() });
      return { segment: definition.name, version: batch ? batch.segmentVersion : definition.version, source: q.source, asOf, members: page.members, nextCursor: page.next === null ? null : encodeCursor(page.next) };
    },
  );
}

function registerSize(app: Parameters<RoutePlugin>[0], ctx: ApiContext): void {
  const Row = Type.Object({ start: Type.Integer(), end: Type.Integer(), size: Type.Integer(), entered: Type.Integer(), left: Type.Integer(), source: Type.Enum(['speed', 'batch', 'mixed']) });
  const Reply = Type.Object({ segment: Type.String(), version: Type.Integer(), from: Type.Integer(), to: Type.Integer(), granularity: Type.String(), windowMs: Type.Integer(), rows: Type.Array(Row) });
  app.get(
    '/:name/size',
    {
      config: { role: 'reader' },
      schema: {
        tags: ['segments'],
        security: [{ apiKey: [] }],
        summary: "A segment's size over time",
        description: 'Members at the end of each bucket, entries and exits in it; hours a reprocess recomputed come from the batch layer (source batch), the rest from the speed layer.',
        params: Params,
        querystring: SizeQuery,
        response: { 200: Reply, 404: errorResponses[400], ...errorResponses },
      },
    },
    async (request) => {
      const windowMs = ctx.config.rules.windowMs;
      const q = request.query;
      const raw = parseRange(q.from, q.to, { now: ctx.now(), maxRangeMs: ctx.config.api.maxRangeMs, defaultSpanMs: 86_400_000 });
      const definition = await existing(ctx, request.params.name);
      const range = { from: Math.floor(raw.from / windowMs) * windowMs, to: Math.ceil(raw.to / windowMs) * windowMs };
      const query = { segmentId: definition.id, ...range, windowMs, partitions: ctx.config.kafka.eventPartitions, maxKeys: 2 * ctx.maxCampaignHours };
      const { windows } = await readSegmentSizes(ctx.analyticsRedis, ctx.keys, query).catch((err: unknown) => {
        throw err instanceof ReadLimitError ? new BadParameterError('from', err.message) : err;
      });
      return { segment: definition.name, version: definition.version, ...range, granularity: q.granularity, windowMs, rows: segmentSizeRows(windows, q.granularity, windowMs, range) };
    },
  );
}
