import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BadParameterError } from '../errors.js';

/** The body of every error answer. */
export interface ErrorBody {
  error: string;
  statusCode: number;
  parameter?: string;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the parameter an ajv (schema) error is about and says what is wrong, in plain words. */
export function describeValidationError(context: string | undefined, error: AjvError): { parameter: string; message: string } {
  const path = error.instancePath.split('/').filter(Boolean);
  const leaf = (error.params.missingProperty as string | undefined) ?? (error.params.additionalProperty as string | undefined);
  const full = leaf === undefined ? path : [...path, leaf];
  // The parameter is the top-level one (a body field); the message names the place inside it.
  const parameter = full[0] ?? context ?? 'request';
  const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : context === 'body' ? 'body field' : 'parameter';
  const named = `${where} "${full.length > 0 ? full.join('.') : parameter}"`;
  switch (error.keyword) {
    case 'required':
      return { parameter, message: `${named} is required` };
    case 'additionalProperties':
      return { parameter, message: `${named} is not a known parameter` };
    case 'enum':
      return { parameter, message: `${named} must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}` };
    case 'pattern': {
      const pattern = String(error.params.pattern ?? '');
      const hint = pattern.startsWith('^[^') ? 'ids are 1-128 printable characters' : `it must match ${pattern}`;
      return { parameter, message: `${named} has characters that are not allowed (${hint})` };
    }
    default:
      return { parameter, message: `${named} ${error.message ?? 'is invalid'}` };
  }
}

/**
 * Redis did not answer: a command timed out (`commandTimeout`), or ioredis gave up on a request
 * while reconnecting, or the connection closed under it. Not a bug of the request: 503.
 */
export function isRedisUnavailable(err: Error): boolean {
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.message === 'Command timed out' ||
    err.message === 'Connection is closed.' ||
    err.message.startsWith('Stream isn\'t writeable')
  );
}

/** One error handler for every route: 4xx say what is wrong, 5xx are logged and say little. */
export function handleError(err: FastifyError & { parameter?: string }, request: FastifyRequest, reply: FastifyReply): void {
  if (isRedisUnavailable(err)) {
    request.log.warn({ err }, 'Redis unavailable; answered 503');
    reply.code(503).header('retry-after', '1').send({ error: 'Redis is unavailable; retry later', statusCode: 503 } satisfies ErrorBody);
    return;
  }
  if (err.validation && err.validation.length > 0) {
    const { parameter, message } = describeValidationError(err.validationContext, err.validation[0] as unknown as AjvError);
    reply.code(400).send({ error: message, statusCode: 400, parameter } satisfies ErrorBody);
    return;
  }
  if (err instanceof BadParameterError) {
    reply.code(400).send({ error: err.message, statusCode: 400, parameter: err.parameter } satisfies ErrorBody);
    return;
  }
  const statusCode = err.statusCode ?? 500;
  if (statusCode >= 500) request.log.error({ err }, 'request failed');
  reply.code(statusCode).send({ error: statusCode >= 500 ? 'internal error' : err.message, statusCode } satisfies ErrorBody);
}
