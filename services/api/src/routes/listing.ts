import Type from 'typebox';
import { slotSafePipeline } from '@sigflow/store';
import { speedPartitions } from '@sigflow/store/views';
import type { ApiContext, RouteApp } from '../context.js';
import { errorResponses } from '../http/schemas.js';

/** Members of a set the speed layer fills, at most 1000, sorted. */
const maxListed = 1_000;

/**
 * `GET <prefix>` listing what the speed partitions and the batch layer have seen (`campaigns`,
 * `pages`: one set per speed partition and one of the batch layer, answered as their union): at
 * most 1000, sorted, and whether there were more.
 */
export function registerListing(app: RouteApp, ctx: ApiContext, name: 'campaigns' | 'pages', speedSet: (partition: number) => string, batchSet: string): void {
  app.get(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: `The ${name} the speed layer has seen (at most ${maxListed}, sorted)`,
        security: [{ apiKey: [] }],
        response: { 200: Type.Object({ [name]: Type.Array(Type.String()), truncated: Type.Boolean() }), ...errorResponses },
      },
    },
    async () => {
      const pipe = slotSafePipeline(ctx.redis);
      for (const p of speedPartitions(ctx.config.kafka.eventPartitions)) pipe.srandmember(speedSet(p), maxListed + 1);
      pipe.srandmember(batchSet, maxListed + 1);
      const replies = (await pipe.exec()) ?? [];
      const members = [...new Set(replies.flatMap(([err, list]) => (err ? [] : (list as string[]))))].sort();
      return { [name]: members.slice(0, maxListed), truncated: members.length > maxListed };
    },
  );
}
