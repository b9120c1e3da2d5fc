import Type from 'typebox';
import { eventLimits } from '@sigflow/events';
import { realTimeModels } from '@sigflow/core';

// Printable identifiers, as in the event contract: no control characters.
const printable = '^[^\\u0000-\\u001f\\u007f]+$';

/** An id of the event contract (user, campaign, page): 1-128 printable characters. */
export const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: eventLimits.maxIdLength, pattern: printable, description });

export const TimeParam = (description: string) =>
  Type.String({ minLength: 1, maxLength: 40, description: `${description}: epoch ms or ISO-8601 (UTC unless an offset is given)` });

export const attributionModels = [...realTimeModels, 'markov'] as const;
export const Model = Type.Enum([...attributionModels], {
  description: `Attribution model: the speed and batch models ${realTimeModels.join(', ')}, or markov (batch views only)`,
});
export const Granularity = Type.Enum(['minute', 'hour', 'day'], {
  description: 'Bucket size: minute = one tumbling window (rules.windowMs, 60 s by default); hour and day sum windows (UTC)',
});
export const Source = Type.Enum(['batch', 'speed', 'mixed'], {
  description: 'Where the numbers come from: batch views (window end <= batch watermark), speed views, or mixed (a bucket that straddles the watermark)',
});

export const ErrorReply = Type.Object({
  error: Type.String(),
  statusCode: Type.Integer(),
  parameter: Type.Optional(Type.String({ description: 'The offending parameter (400)' })),
});

/** The error answers every protected route may give. */
export const errorResponses = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  429: ErrorReply,
  500: ErrorReply,
  503: ErrorReply,
};

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
