import Type from 'typebox';
import { readMarkovModel } from '@sigflow/store/batch';
import type { RoutePlugin } from '../context.js';
import { Nullable, errorResponses } from '../http/schemas.js';

const MarkovReply = Type.Object({
  version: Nullable(Type.String({ description: 'null: no model published yet (markov credit needs one; `POST /v1/jobs/train`)' })),
  definition: Nullable(
    Type.String({
      description:
        'What the chain was trained on: journeys-v1 = journeys cut at each conversion with the attribution lookback, the rest one unconverted journey ' +
        '(DESIGN.md, Markov); null for a model trained before it was recorded (one path per user over the period)',
    }),
  ),
  from: Nullable(Type.Integer({ description: 'Training period start (ms)' })),
  to: Nullable(Type.Integer({ description: 'Training period end (ms, exclusive)' })),
  journeys: Nullable(Type.Integer({ description: 'Journeys the chain was trained on' })),
  convertedJourneys: Nullable(Type.Integer()),
  conversionProbability: Nullable(Type.Number({ description: 'P(conversion) from start' })),
  removalEffects: Type.Array(Type.Object({ channel: Type.String(), effect: Type.Number({ description: '1 - P(conversion with the channel removed) / P(conversion)' }) }), {
    description: 'Per channel, sorted by channel',
  }),
});

/** `GET /v1/attribution/markov` (register with that prefix): the published Markov model, what it was trained on, its removal effects. */
export const markovRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'The published Markov model: version, definition, training period, removal effects',
        security: [{ apiKey: [] }],
        response: { 200: MarkovReply, ...errorResponses },
      },
    },
    async () => {
      const published = await readMarkovModel(ctx.analyticsRedis, ctx.keys);
      return {
        version: published?.version ?? null,
        definition: published?.definition ?? null,
        from: published?.from ?? null,
        to: published?.to ?? null,
        journeys: published?.journeys ?? null,
        convertedJourneys: published?.convertedJourneys ?? null,
        conversionProbability: published?.model.conversionProbability ?? null,
        removalEffects: [...(published?.model.removalEffects ?? [])],
      };
    },
  );
};
