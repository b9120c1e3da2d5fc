import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadParameterError } from '../errors.js';

/** Where a body's value changed type under validation, and what it was. */
interface CoercedField {
  readonly field: string;
  readonly sent: unknown;
  readonly became: string;
}

const bodiesAsSent = new WeakMap<FastifyRequest, unknown>();

/**
 * JSON bodies keep the types they were sent with. fastify's ajv coerces types in every part of
 * a request (query strings carry numbers as text), and in a body that turns `"5"`, `true` or
 * `null` into a number and a scalar into a one-element array: a budget of `true` micros. The
 * body is copied before validation and compared after it; a field whose type the schema
 * changed is refused with 400, naming the field (`conditions[0].value`).
 */
export function installExactBodyTypes(app: FastifyInstance): void {
  // Callback hooks: a GET (no body) pays two function calls, not two promises.
  app.addHook('preValidation', (request, _reply, done) => {
    if (typeof request.body === 'object' && request.body !== null) bodiesAsSent.set(request, structuredClone(request.body));
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const sent = bodiesAsSent.get(request);
    if (sent === undefined) return done();
    bodiesAsSent.delete(request);
    const coerced = firstCoerced(sent, request.body, '');
    if (coerced === null) return done();
    const field = coerced.field || 'body';
    const shown = JSON.stringify(coerced.sent)?.slice(0, 60);
    done(new BadParameterError(field, `body field "${field}" was sent as ${jsonType(coerced.sent)} (${shown}) where ${coerced.became} is expected: send it as that JSON type`));
  });
}

/** The JSON type of a value, as an error names it. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** The first field (depth first) of `sent` whose value has another JSON type in `validated`. */
function firstCoerced(sent: unknown, validated: unknown, path: string): CoercedField | null {
  if (jsonType(sent) !== jsonType(validated)) return { field: path, sent, became: jsonType(validated) };
  if (Array.isArray(sent)) {
    const after = validated as unknown[];
    for (let i = 0; i < sent.length; i++) {
      const found = firstCoerced(sent[i], after[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (typeof sent === 'object' && sent !== null) {
    const after = validated as Record<string, unknown>;
    for (const [name, value] of Object.entries(sent)) {
      // Fields the schema removed are not compared (unknown ones are refused before this).
      if (!(name in after)) continue;
      const found = firstCoerced(value, after[name], path ? `${path}.${name}` : name);
      if (found) return found;
    }
  }
  return null;
}
