import Type from 'typebox';
import { readShapleyTable } from '@sigflow/store/batch';
import type { RoutePlugin } from '../context.js';
import { Nullable, errorResponses } from '../http/schemas.js';

const Coalition = Type.Object({
  channels: Type.Array(Type.String(), { description: 'The exposure set S, sorted' }),
  value: Type.Number({ description: 'v(S): converted users with E = S / users with E = S' }),
});

const ShapleyReply = Type.Object({
  version: Nullable(Type.String({ description: 'null: no table published yet (Shapley credit is the equal split)' })),
  from: Nullable(Type.Integer({ description: 'Training period start (ms)' })),
  to: Nullable(Type.Integer({ description: 'Training period end (ms, exclusive)' })),
  trainedAt: Nullable(Type.Integer()),
  users: Nullable(Type.Integer({ description: 'Users with a valid touchpoint in the period' })),
  convertedUsers: Nullable(Type.Integer()),
  channels: Type.Array(Type.String(), { description: 'Every channel of the table, sorted' }),
  coalitionCount: Type.Integer({ description: 'Coalitions in the table' }),
  coalitions: Type.Array(Coalition, { description: 'The largest coalitions first (then higher v(S), then by name), at most `largest`' }),
});

const Query = Type.Object({ largest: Type.Integer({ minimum: 1, maximum: 200, default: 12 }) }, { additionalProperties: false });

/** The table's coalitions, largest first, then by value (higher first) and name. */
function largestCoalitions(values: Readonly<Record<string, number>>, limit: number) {
  return Object.entries(values)
    .filter(([key]) => key !== '')
    .map(([key, value]) => ({ key, channels: key.split('+'), value }))
    .sort((a, b) => b.channels.length - a.channels.length || b.value - a.value || (a.key < b.key ? -1 : 1))
    .slice(0, limit)
    .map(({ channels, value }) => ({ channels, value }));
}

/** `GET /v1/attribution/shapley` (register with that prefix): the published Shapley table, how it was trained, its largest coalitions. */
export const shapleyRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'The published Shapley table: version, training period, v(S) of the largest coalitions',
        security: [{ apiKey: [] }],
        querystring: Query,
        response: { 200: ShapleyReply, ...errorResponses },
      },
    },
    async (request) => {
      const table = await readShapleyTable(ctx.analyticsRedis, ctx.keys);
      const values = table?.values ?? {};
      const keys = Object.keys(values).filter((k) => k !== '');
      return {
        version: table?.version ?? null,
        from: table?.from ?? null,
        to: table?.to ?? null,
        trainedAt: table?.trainedAt ?? null,
        users: table?.users ?? null,
        convertedUsers: table?.convertedUsers ?? null,
        channels: [...new Set(keys.flatMap((k) => k.split('+')))].sort(),
        coalitionCount: keys.length,
        coalitions: largestCoalitions(values, request.query.largest),
      };
    },
  );
};
