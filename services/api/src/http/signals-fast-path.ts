import { eventLimits, userPartition } from '@sigflow/events';
import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readSignals } from '@sigflow/store/views';
import type { KeyRing } from '../auth/api-keys.js';
import { answerJson, readerCredential, type FastPath } from './fast-path.js';
import type { RequestWindows } from './request-windows.js';
import { signalsBody, signalsLimit } from './signals-body.js';

const prefix = '/v1/users/';
const suffix = '/signals';
/** Ids the fast path takes as they are: no percent-encoding (anything else goes to fastify). */
const plainId = new RegExp(`^[A-Za-z0-9._~-]{1,${eventLimits.maxUserIdLength}}$`);
/** `limit` as the route reads it, written plainly: 1 to 9999 without a leading zero (checked against the maximum). */
const plainLimit = /^[1-9][0-9]{0,3}$/;

/** What the fast path needs from the API. */
export interface SignalsFastPathDeps {
  readonly ring: KeyRing;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  /** Partitions of the events topic (a user's signals live in its partition's keys). */
  readonly partitions: number;
  readonly windows: RequestWindows;
  /** The rate limit (requests per window per key) and its window, as the rest of the API counts them. */
  readonly limit: number;
  readonly windowMs: number;
  /** Records a served request's duration in seconds (the route's request histogram). */
  readonly served: (seconds: number) => void;
}

/** The `limit` of a plain query (none, or `limit=N` alone); null for anything else. */
function plainQueryLimit(query: string | null): number | null {
  if (query === null) return signalsLimit.default;
  if (!query.startsWith('limit=')) return null;
  const digits = query.slice('limit='.length);
  if (!plainLimit.test(digits)) return null;
  const limit = Number(digits);
  return limit <= signalsLimit.max ? limit : null;
}

/**
 * `GET /v1/users/:userId/signals` answered before fastify when everything is plain: a plain id,
 * no query or `limit` alone, a key with the reader role (or above) within its rate limit. It
 * reads and answers what the fastify route does (the same `readSignals`, body, content type and
 * rate-limit headers) without fastify's request path: on `bench:api`'s signals load the API
 * spent 84-95 against 94-101 µs a request (interleaved runs). Returns false, having written nothing, for every
 * other request: fastify then answers it in full (types or since, 401/403/429, validation).
 * A read that fails (Redis unreachable or too slow) is handed to fastify, which reads again and
 * answers the error as the route does; that request then counts twice against its key's limit.
 */
export function signalsFastPath(deps: SignalsFastPathDeps): FastPath {
  const { ring, redis, keys, partitions, windows, limit: rateLimit, windowMs, served } = deps;
  return (request, response, toFastify) => {
    const url = request.url;
    if (request.method !== 'GET' || url === undefined || !url.startsWith(prefix)) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!path.endsWith(suffix)) return false;
    const userId = path.slice(prefix.length, path.length - suffix.length);
    const limit = plainQueryLimit(q < 0 ? null : url.slice(q + 1));
    if (limit === null || !plainId.test(userId)) return false;
    const started = performance.now();
    const credential = readerCredential(request, ring);
    if (credential === null) return false;
    // Over the limit: fastify's limiter (the same windows) answers the 429.
    const count = windows.take(credential.bucket, windowMs);
    if (count.current > rateLimit) return false;
    readSignals(redis, keys, userPartition(userId, partitions), userId, { includeInvalid: false, limit }).then(
      (signals) => {
        answerJson(response, signalsBody(userId, signals), rateLimit, count);
        served((performance.now() - started) / 1000);
      },
      () => toFastify(),
    );
    return true;
  };
}
