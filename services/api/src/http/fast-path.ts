import type { IncomingMessage, ServerResponse } from 'node:http';
import { presentedKey, roleAllows, type KeyRing } from '../auth/api-keys.js';
import { keyCredential, type KeyCredential } from '../auth/auth-hooks.js';
import type { WindowCount } from './request-windows.js';

/**
 * A request answered before fastify: returns true when it took the request (it answers it, or
 * hands it to fastify later with `toFastify` when it cannot), false when it wrote nothing and
 * fastify answers it now.
 */
export type FastPath = (request: IncomingMessage, response: ServerResponse, toFastify: () => void) => boolean;

/** The credential of a request's key when it has the reader role or above; null otherwise (fastify answers). */
export function readerCredential(request: IncomingMessage, ring: KeyRing): KeyCredential | null {
  const key = presentedKey(request.headers);
  if (key === undefined) return null;
  const credential = keyCredential(key);
  const role = ring.roleOf(credential.digest);
  return role !== null && roleAllows(role, 'reader') ? credential : null;
}

/**
 * Answers 200 with a JSON body and the rate-limit headers fastify's limiter sets: `limit`
 * requests per window, `count` the caller's in the current one.
 */
export function answerJson(response: ServerResponse, body: string | Buffer, limit: number, count: WindowCount): void {
  response.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-ratelimit-limit': limit,
    'x-ratelimit-remaining': limit - count.current,
    'x-ratelimit-reset': Math.ceil(count.ttl / 1000),
  });
  response.end(body);
}
