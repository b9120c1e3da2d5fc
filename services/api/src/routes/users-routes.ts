import Type from 'typebox';
import { engagementAt, membershipsExpireAt, type UserState } from '@sigflow/core';
import { eventTypes, userPartition } from '@sigflow/events';
import { readSegmentIndex, readSpeedClock } from '@sigflow/store/segments-alerts';
import { readRecentUsers } from '@sigflow/store/speed-state';
import { readSignals, readUserState } from '@sigflow/store/views';
import type { ApiContext, RoutePlugin } from '../context.js';
import { parseTime, parseTypes } from '../http/params.js';
import { Id, Nullable, TimeParam, errorResponses } from '../http/schemas.js';
import { signalsBody, signalsLimit } from '../http/signals-body.js';

const Signal = Type.Object(
  {
    event_id: Type.String(),
    type: Type.Enum([...eventTypes]),
    ts: Type.Integer({ description: 'Event time (ms)' }),
    campaign_id: Type.Optional(Type.String()),
    ad_id: Type.Optional(Type.String()),
    channel: Type.Optional(Type.String()),
    page_id: Type.Optional(Type.String()),
    element_id: Type.Optional(Type.String()),
    value: Type.Optional(Type.Number()),
    name: Type.Optional(Type.String({ description: 'Custom events (type track): the event name, normalized (lower case, spaces as _)' })),
    properties: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'Custom events: their properties (flat)' })),
    invalid: Type.Boolean({ description: 'Invalid traffic (excluded unless includeInvalid=true)' }),
    reason: Nullable(Type.String({ description: 'bot | flood | orphan | too_fast' })),
    late: Type.Boolean({ description: 'Arrived after its window closed (kept out of speed views, corrected by batch)' }),
    source: Type.Optional(
      Type.Union([Type.Literal('speed'), Type.Literal('batch')], {
        description:
          "Whose verdict (invalid, reason, late) the signal carries: the speed layer's as it appended it, or the batch layer's once a recompute of its hour " +
          'reviewed it (invalid, late or possibly copied signals are reviewed; the others keep speed, the batch agreeing). Absent on signals stored before it was recorded.',
      }),
    ),
  },
  { additionalProperties: true },
);

const SignalsReply = Type.Object({
  userId: Type.String(),
  count: Type.Integer(),
  signals: Type.Array(Signal, { description: 'Newest first (arrival order at the speed layer)' }),
});

const Session = Type.Object({
  start: Type.Integer(),
  end: Type.Integer({ description: 'ts of the last event' }),
  events: Type.Integer(),
  open: Type.Boolean({ description: 'No gap of rules.sessionGapMs since its last event yet' }),
});

const Touchpoint = Type.Object({
  event_id: Type.String(),
  ts: Type.Integer(),
  type: Type.String(),
  campaign_id: Type.String(),
  ad_id: Type.String(),
  channel: Type.String(),
});

const ProfileReply = Type.Object({
  userId: Type.String(),
  known: Type.Boolean({ description: 'False for a user the speed layer holds no state for (all values empty)' }),
  asOf: Type.Integer({ description: 'The time the engagement score is decayed to (now)' }),
  engagement: Type.Object({
    score: Type.Number({ description: 'sum of w(type) * 2^(-(now - ts) / halfLife) over valid events' }),
    halfLifeMs: Type.Integer(),
  }),
  lastEventAt: Nullable(Type.Integer()),
  sessions: Type.Array(Session, { description: 'Recent sessions, newest first' }),
  lastTouch: Nullable(Touchpoint),
  conversions: Type.Object({ count: Type.Integer(), value: Type.Number() }),
  traits: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
    description: "The user's traits (identify calls): for each, the value of the latest identify in event time",
  }),
  segments: Type.Array(
    Type.Object({
      name: Type.String(),
      entered: Type.Integer({ description: 'Event time of the event at which the user entered' }),
      version: Type.Integer({ description: 'Definition version that last confirmed the membership' }),
      expiresAt: Type.Integer({ description: 'Event time at which it lapses without a further event' }),
    }),
    { description: 'The segments the user is in (defined now, not lapsed as of the newest event time the speed layer saw)' },
  ),
});

const RecentReply = Type.Object({
  users: Type.Array(Type.Object({ userId: Type.String(), seenAt: Type.Integer({ description: 'When the speed layer last committed a signal of theirs (ms)' }) }), {
    description: 'Newest first',
  }),
});

const RecentQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }) }, { additionalProperties: false });

const UserParams = Type.Object({ userId: Id('User id (1-128 printable characters)') });

const SignalsQuery = Type.Object(
  {
    types: Type.Optional(Type.String({ maxLength: 200, description: `Comma list of event types (${eventTypes.join(', ')})` })),
    event: Type.Optional(
      Type.String({ maxLength: 1_000, pattern: '^[a-z0-9_.:-]{1,64}(,[a-z0-9_.:-]{1,64})*$', description: 'Comma list of custom event names (signals of type track with one of them)' }),
    ),
    since: Type.Optional(TimeParam('Only signals with ts >= since')),
    limit: Type.Integer({ minimum: 1, maximum: signalsLimit.max, default: signalsLimit.default }),
    includeInvalid: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

/** The memberships of a user's state still in force: of segments defined now, not lapsed at `asOf`. */
function segmentsOf(state: UserState, index: Map<string, { name: string }>, asOf: number, rules: ApiContext['config']['rules']) {
  const expiresAt = membershipsExpireAt(state.maxTs ?? 0, rules);
  if (expiresAt <= asOf) return [];
  return state.segments.filter((m) => index.has(m.id)).map((m) => ({ name: index.get(m.id)?.name ?? m.name, entered: m.entered, version: m.version, expiresAt }));
}

/** A user's profile at `now` from the keyed state the speed layer keeps (null: an unknown user). */
function profileOf(userId: string, state: UserState | null, now: number, rules: ApiContext['config']['rules'], segments: ReturnType<typeof segmentsOf> = []) {
  const halfLifeMs = rules.engagementHalfLifeMs;
  if (!state) {
    return {
      userId,
      known: false,
      asOf: now,
      engagement: { score: 0, halfLifeMs },
      lastEventAt: null,
      sessions: [],
      lastTouch: null,
      conversions: { count: 0, value: 0 },
      traits: {},
      segments: [],
    };
  }
  return {
    userId,
    known: true,
    asOf: now,
    engagement: { score: engagementAt(state.engagement, now, halfLifeMs), halfLifeMs },
    lastEventAt: state.maxTs,
    sessions: [...state.sessions]
      .sort((a, b) => b.start - a.start)
      .map((s) => ({ start: s.start, end: s.end, events: s.events, open: now < s.end + rules.sessionGapMs })),
    lastTouch: state.lastTouch,
    conversions: { count: state.conversions.count, value: state.conversions.value },
    traits: Object.fromEntries(Object.entries(state.segmentFeatures.traits ?? {}).map(([name, [value]]) => [name, value])),
    segments,
  };
}

/** Recommendation-service reads (register with prefix `/v1/users`): one Redis round trip each in the common case. */
export const userRoutes: RoutePlugin = async (app, { ctx }) => {
  const { redis, keys, config } = ctx;
  app.get(
    '/:userId/signals',
    {
      config: { role: 'reader' },
      schema: {
        tags: ['users'],
        summary: "A user's signals, newest first",
        description:
          'The append-only signal log the speed layer keeps per user (bounded length and TTL): every non-duplicate event, ' +
          'late ones flagged, each event once (a copy the speed layer no longer recognised is served once, and the batch layer drops it). ' +
          "A recompute of the signal's hour corrects its verdict (source: batch). Invalid traffic is excluded unless includeInvalid=true. An unknown user has no signals (200).",
        security: [{ apiKey: [] }],
        params: UserParams,
        querystring: SignalsQuery,
        // The handler sends the stored JSON as bytes (no parse-and-serialize); the schema documents it.
        response: { 200: Type.Unsafe<Buffer>(SignalsReply), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const q = request.query;
      const filter = {
        types: parseTypes(q.types),
        names: q.event === undefined ? undefined : new Set(q.event.split(',')),
        since: q.since === undefined ? undefined : parseTime(q.since, 'since'),
        includeInvalid: q.includeInvalid,
        limit: q.limit,
      };
      const signals = await readSignals(redis, keys, userPartition(userId, config.kafka.eventPartitions), userId, filter);
      return reply.type('application/json; charset=utf-8').send(signalsBody(userId, signals));
    },
  );

  app.get(
    '/recent',
    {
      config: { role: 'reader' },
      schema: {
        tags: ['users'],
        summary: 'Users the speed layer saw lately, newest first',
        description: 'From the newest SIGFLOW_SPEED_RECENT_USERS users of each partition (200 by default): ids to look up, e.g. in the dashboard.',
        security: [{ apiKey: [] }],
        querystring: RecentQuery,
        response: { 200: RecentReply, ...errorResponses },
      },
    },
    async (request) => ({ users: await readRecentUsers(redis, keys, config.kafka.eventPartitions, request.query.limit) }),
  );

  app.get(
    '/:userId/profile',
    {
      config: { role: 'reader' },
      schema: {
        tags: ['users'],
        summary: "A user's profile: engagement decayed to now, recent sessions, last touch, conversions, segments",
        security: [{ apiKey: [] }],
        params: UserParams,
        response: { 200: ProfileReply, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const now = ctx.now();
      const [restored, index, clock] = await Promise.all([
        readUserState(redis, keys, userPartition(userId, config.kafka.eventPartitions), userId, { settings: config.rules, snapshotEvery: config.speed.snapshotEvery }),
        readSegmentIndex(redis, keys),
        readSpeedClock(redis, keys, config.kafka.eventPartitions, config.rules.watermarkDelayMs),
      ]);
      const user = restored?.user ?? null;
      return profileOf(userId, user, now, config.rules, user ? segmentsOf(user, index, clock ?? now, config.rules) : []);
    },
  );
};
