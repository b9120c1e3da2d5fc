import type { IncomingMessage, ServerResponse } from 'node:http';
import { presentedKey, roleAllows, type KeyRing } from '../auth/api-keys.js';
import { keyCredential, type KeyCredential } from '../auth/auth-hooks.js';

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
