import Type from 'typebox';
import { readServingStatus } from '@sigflow/store/views';
import { roleOfRequest } from '../auth/auth-hooks.js';
import type { RoutePlugin } from '../context.js';
import { Counts, Watermark } from '../http/analytics-schemas.js';
import { Nullable, errorResponses } from '../http/schemas.js';

/** `GET /v1/status` (register with that prefix): where the served data stands. */
export const statusRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '',
    {
      config: { role: 'reader' },
      schema: {
        tags: ['analytics'],
        summary: 'Where the served data stands: batch watermark, speed watermarks, Shapley version, speed counters',
        security: [{ apiKey: [] }],
        response: {
          200: Type.Object({
            now: Type.Integer(),
            role: Type.String({ description: "The calling key's role" }),
            batchWatermark: Watermark,
            speedWatermarks: Counts,
            shapleyVersion: Nullable(Type.String()),
            speedCounters: Counts,
            windowMs: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const status = await readServingStatus(ctx.redis, ctx.keys, ctx.config.kafka.eventPartitions);
      return { now: ctx.now(), role: roleOfRequest(request) ?? 'reader', ...status, windowMs: ctx.config.rules.windowMs };
    },
  );
};
