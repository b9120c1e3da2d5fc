import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '@sigflow/config';
import { keyDigest, presentedKey, roleAllows, type KeyRing } from './api-keys.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a route needs; routes without one are public. */
    role?: Role;
    /** Answer 401 with a Basic challenge, so a browser asks for the key (the ops board). */
    basicChallenge?: boolean;
  }
}

export interface Credential {
  /** SHA-256 of the presented key; null when none was presented. */
  readonly digest: Buffer | null;
  /** What rate limiting counts against: the key's digest, else the client address. */
  readonly bucket: string;
}

const credentials = new WeakMap<FastifyRequest, Credential>();

/**
 * Credentials of recently presented keys: a client sends the same key on every request, and
 * hashing it each time costs more than the rest of a bidder's read. Bounded: emptied when full.
 */
const recentKeys = new Map<string, KeyCredential>();
const recentKeysMax = 1_024;

/** The credential of a request that presented a key. */
export interface KeyCredential extends Credential {
  readonly digest: Buffer;
}

/** The credential of a presented key (its digest and rate-limit bucket), hashed once while recent. */
export function keyCredential(key: string): KeyCredential {
  let credential = recentKeys.get(key);
  if (credential === undefined) {
    if (recentKeys.size >= recentKeysMax) recentKeys.clear();
    const digest = keyDigest(key);
    recentKeys.set(key, (credential = { digest, bucket: `key:${digest.toString('base64url')}` }));
  }
  return credential;
}

/** The request's credential (rate limiting and auth share it). */
export function credentialOf(request: FastifyRequest): Credential {
  let credential = credentials.get(request);
  if (!credential) {
    const key = presentedKey(request.headers);
    credential = key === undefined ? { digest: null, bucket: `ip:${request.ip}` } : keyCredential(key);
    credentials.set(request, credential);
  }
  return credential;
}

/**
 * Who made a request, as job data records it (`requestedBy`): `api:key-<12 hex digits of the
 * key's SHA-256>`, which names the key without revealing it; `api` without a key.
 */
export function requesterOf(request: FastifyRequest): string {
  const { digest } = credentialOf(request);
  return digest ? `api:key-${digest.toString('hex').slice(0, 12)}` : 'api';
}

/**
 * The key a request authenticated with, as change logs record it: `key-<12 hex digits of its
 * SHA-256>` (names the key without revealing it; the same name as in `requesterOf`) and its role.
 */
export function keyIdentityOf(request: FastifyRequest): { key: string; role: string } {
  const { digest } = credentialOf(request);
  return { key: digest ? `key-${digest.toString('hex').slice(0, 12)}` : 'none', role: roleOf.get(request) ?? 'none' };
}

/** The role a request authenticated with (set for protected routes). */
export function roleOfRequest(request: FastifyRequest): Role | null {
  return roleOf.get(request) ?? null;
}
const roleOf = new WeakMap<FastifyRequest, Role>();

/**
 * Checks the API key of every route that declares `config.role`: 401 without a known key,
 * 403 when the key's role is below the route's. Runs before validation, so an unauthenticated
 * caller learns nothing about parameters.
 */
export function installAuth(app: FastifyInstance, ring: KeyRing): void {
  // A callback hook (no promise per request); answering without calling done() stops the chain.
  app.addHook('preValidation', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const need = request.routeOptions.config.role;
    if (!need) return done();
    const { digest } = credentialOf(request);
    const role = digest ? ring.roleOf(digest) : null;
    if (!role) {
      if (request.routeOptions.config.basicChallenge) reply.header('www-authenticate', 'Basic realm="sigflow ops", charset="UTF-8"');
      reply.code(401).send({
        error: digest ? 'unknown API key' : 'missing API key: send it in the x-api-key header or as Authorization: Bearer <key>',
        statusCode: 401,
      });
      return;
    }
    if (!roleAllows(role, need)) {
      reply.code(403).send({ error: `this route needs the ${need} role; the key has the ${role} role`, statusCode: 403 });
      return;
    }
    roleOf.set(request, role);
    done();
  });
}
