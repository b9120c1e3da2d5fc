import type { BiddingAnswerCache } from '@sigflow/store/bidding';
import { eventLimits } from '@sigflow/events';
import type { KeyRing } from '../auth/api-keys.js';
import { answerJson, readerCredential, type FastPath } from './fast-path.js';
import type { RequestWindows } from './request-windows.js';

const prefix = '/v1/bidding/';
/** Ids the fast path takes as they are: no percent-encoding, no query string (anything else goes to fastify). */
const plainId = new RegExp(`^[A-Za-z0-9._~-]{1,${eventLimits.maxIdLength}}$`);

/** What the fast path needs from the API. */
export interface BiddingFastPathDeps {
  readonly ring: KeyRing;
  readonly answers: BiddingAnswerCache;
  readonly windows: RequestWindows;
  /** The rate limit (requests per window per key) and its window, as the rest of the API counts them. */
  readonly limit: number;
  readonly windowMs: number;
  /** Records a served request's duration in seconds (the route's request histogram). */
  readonly served: (seconds: number) => void;
}

/**
 * `GET /v1/bidding/:campaignId` answered before fastify when everything is plain: a plain id,
 * a key with the reader role (or above) within its rate limit, and the answer in memory
 * (`BiddingAnswerCache.peek`). It answers what the fastify route answers (the stored JSON, the
 * same content type and rate-limit headers) at a third of the CPU, which is what a bidder's
 * tail latency needs on a loaded machine. Returns false, having written nothing, for every other
 * request: fastify then answers it in full (401/403/404/429/503, validation, a cache miss).
 */
export function biddingFastPath(deps: BiddingFastPathDeps): FastPath {
  const { ring, answers, windows, limit, windowMs, served } = deps;
  return (request, response) => {
    const url = request.url;
    if (request.method !== 'GET' || url === undefined || !url.startsWith(prefix)) return false;
    const campaignId = url.slice(prefix.length);
    if (!plainId.test(campaignId)) return false;
    const started = performance.now();
    const credential = readerCredential(request, ring);
    if (credential === null) return false;
    const json = answers.peek(campaignId);
    if (json === undefined) return false;
    // Over the limit: fastify's limiter (the same windows) answers the 429.
    const count = windows.take(credential.bucket, windowMs);
    if (count.current > limit) return false;
    answerJson(response, json, limit, count);
    served((performance.now() - started) / 1000);
    return true;
  };
}
