import Type from 'typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validateBatch } from '@sigflow/events';
import { KafkaUnavailableError } from '@sigflow/kafka';
import type { CollectorConfig, EventLimitsConfig, PrivacyConfig } from '@sigflow/config';
import type { TombstoneSet } from '@sigflow/privacy';
import type { EventSink } from '../routes/ingest-route.js';
import type { CollectorMetrics } from '../collector-metrics.js';
import { siteOf } from '../ingest/caller.js';
import { clientIp, urlProblem } from '../ingest/browser-events.js';
import { messageOf, splitDeleted } from '../ingest/privacy-filter.js';
import { decompressSegmentBody, messageBytesOver, parseSegmentBody, segmentLimits, type SegmentBody } from './segment-body.js';
import { mapSegmentMessage, segmentTime, type SegmentRequestContext } from './segment-message.js';
import { collectorBase, segmentSettings } from './segment-settings.js';
import { writeKeyOf } from './write-key.js';
import { deadLetterOf, type SegmentRejection } from './segment-dead-letters.js';

export interface SegmentRouteOptions {
  readonly collector: CollectorConfig;
  readonly limits: EventLimitsConfig;
  readonly sink: EventSink;
  /** Where refused messages are kept with their reason (the dead-letter topic). */
  readonly deadLetters: EventSink;
  readonly metrics: CollectorMetrics;
  readonly now: () => number;
  readonly privacy: PrivacyConfig;
  readonly tombstones?: TombstoneSet;
}

/** Segment's paths: the batch endpoint and its aliases, and one per call type (with analytics.js's one-letter forms). */
export const segmentBatchPaths = ['/v1/batch', '/v1/b', '/v1/import'] as const;
export const segmentCallPaths: Readonly<Record<string, string>> = {
  '/v1/track': 'track', '/v1/t': 'track',
  '/v1/page': 'page', '/v1/p': 'page',
  '/v1/screen': 'screen', '/v1/s': 'screen',
  '/v1/identify': 'identify', '/v1/i': 'identify',
  '/v1/group': 'group', '/v1/g': 'group',
  '/v1/alias': 'alias', '/v1/a': 'alias',
};

const Rejected = Type.Object({ index: Type.Integer(), code: Type.String(), reason: Type.String() });
const SegmentReply = Type.Object({
  success: Type.Boolean({ description: 'Segment clients read the status; true when at least one message was accepted' }),
  accepted: Type.Integer({ description: 'Messages Kafka acknowledged' }),
  rejected: Type.Array(Rejected, { description: 'Messages refused (kept in the dead-letter topic with the reason, unless their person was deleted)' }),
});
const ErrorReply = Type.Object({ error: Type.String(), statusCode: Type.Integer() });
const replies = { 200: SegmentReply, 400: Type.Union([SegmentReply, ErrorReply]), 401: ErrorReply, 415: ErrorReply, 503: ErrorReply };
const authHeaders = Type.Object({ authorization: Type.Optional(Type.String({ maxLength: 1_024 })), origin: Type.Optional(Type.String({ maxLength: 1_024 })) });

type Reply = { code: number; body: Record<string, unknown> };
const error = (code: number, message: string): Reply => ({ code, body: { error: message, statusCode: code } });

/**
 * Segment's HTTP tracking API on the collector, so Segment's own clients (analytics.js and
 * analytics-next, analytics-node, the mobile SDKs) send here unchanged: every call mapped to an
 * event of the contract (`mapSegmentMessage`) and checked like any other, or kept in the
 * dead-letter topic with its reason. Its own scope: bodies are JSON objects whatever their
 * content-type (gzip accepted), 500 KB at most, and Segment's 400 for an oversized one.
 */
export async function segmentRoutes(scope: FastifyInstance, options: SegmentRouteOptions): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: segmentLimits.maxRequestBytes }, (_req, body, done) => {
    try {
      done(null, parseSegmentBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  scope.addHook('preParsing', decompressSegmentBody);
  scope.setErrorHandler((err: FastifyError, request, reply) => {
    const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const statusCode = tooLarge ? 400 : (err.statusCode ?? 500);
    if (statusCode >= 500) request.log.error({ err }, 'Segment request failed');
    const message = tooLarge ? `request over ${segmentLimits.maxRequestBytes} bytes (Segment's limit: 500 KB per request)` : statusCode >= 500 ? 'internal error' : err.message;
    reply.code(statusCode).send({ error: message, statusCode });
  });

  const ingest = segmentIngest(options);
  const schema = (summary: string) => ({ summary, tags: ['segment'], headers: authHeaders, body: Type.Unknown(), response: replies });
  for (const path of segmentBatchPaths) {
    scope.post(path, { schema: schema("Segment's batch call: {batch: [...], sentAt, writeKey}") }, (request, reply) => ingest(request, reply, undefined));
  }
  for (const [path, type] of Object.entries(segmentCallPaths)) {
    scope.post(path, { schema: schema(`Segment's ${type} call`) }, (request, reply) => ingest(request, reply, type));
  }
  for (const path of [...segmentBatchPaths, ...Object.keys(segmentCallPaths)]) {
    // Preflights: the CORS hook answers them (or refuses them) before the route is reached.
    scope.options(path, { schema: { hide: true } }, async (_request, reply) => reply.code(403).send({ error: 'a preflight needs an Origin header', statusCode: 403 }));
  }
  scope.get<{ Params: { writeKey: string } }>(
    '/v1/projects/:writeKey/settings',
    {
      schema: {
        summary: "analytics-next's settings for a write key (its cdnURL pointed at the collector)",
        tags: ['segment'],
        params: Type.Object({ writeKey: Type.String({ minLength: 1, maxLength: 256 }) }),
      },
    },
    async (request, reply) => {
      if (siteOf(options.collector.siteKeys, request.params.writeKey) === undefined) return reply.code(401).send({ error: 'unknown write key', statusCode: 401 });
      const base = collectorBase(options.collector.publicUrl, request);
      if (base === undefined) return reply.code(400).send({ error: 'the Host header is not a host name: set SIGFLOW_COLLECTOR_PUBLIC_URL', statusCode: 400 });
      return reply.header('cache-control', 'public, max-age=300').send(segmentSettings(request.params.writeKey, base));
    },
  );
}

/** The messages of a request: the batch's, or the one call (its type from the path). */
function messagesOf(body: SegmentBody, callType: string | undefined): unknown[] | string {
  const value = body.value as Record<string, unknown>;
  if (callType !== undefined) {
    if (body.bytes > segmentLimits.maxMessageBytes) return `message over ${segmentLimits.maxMessageBytes} bytes (Segment's limit: 32 KB per call)`;
    return [{ ...value, type: callType }];
  }
  const batch = value['batch'];
  if (!Array.isArray(batch)) return 'a batch call needs "batch": an array of messages';
  if (batch.length === 0) return 'empty batch: send at least one message';
  return batch;
}

/** A route's handler: the answer, counted by status (503s tell the client when to retry). */
function segmentIngest(options: SegmentRouteOptions) {
  return async (request: FastifyRequest, reply: FastifyReply, callType: string | undefined) => {
    const answer = await answerSegment(options, request, callType);
    options.metrics.requests.inc({ status: answer.code });
    if (answer.code === 503) reply.header('retry-after', String(options.collector.retryAfterSeconds));
    return reply.code(answer.code).send(answer.body);
  };
}

async function answerSegment(options: SegmentRouteOptions, request: FastifyRequest, callType: string | undefined): Promise<Reply> {
  const body = request.body as SegmentBody;
  if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) return error(400, 'expected a JSON object: a Segment call, or {"batch": [...]}');
  const writeKey = writeKeyOf(request.headers.authorization, body.value);
  if (writeKey === undefined) return error(401, 'missing write key: send it as the HTTP Basic user name (empty password) or as writeKey in the body');
  const site = siteOf(options.collector.siteKeys, writeKey);
  if (site === undefined) return error(401, 'unknown write key (SIGFLOW_COLLECTOR_SITE_KEYS)');
  options.metrics.callers.inc({ kind: 'segment' });
  const messages = messagesOf(body, callType);
  if (typeof messages === 'string') return error(400, messages);
  const origin = request.headers.origin;
  const context: SegmentRequestContext = {
    site,
    mapping: options.collector.segmentMapping.get(site),
    receivedAt: options.now(),
    batchSentAt: segmentTime((body.value as Record<string, unknown>)['sentAt']),
    ip: clientIp(request.ip),
    userAgent: request.headers['user-agent'],
    fromBrowser: origin !== undefined,
  };
  const { accepted, rejected } = checkMessages(options, messages, context, origin, body.bytes > segmentLimits.maxMessageBytes);
  try {
    await send(options, accepted, rejected, messages, context);
  } catch (err) {
    if (!(err instanceof KafkaUnavailableError)) throw err;
    request.log.warn({ err, messages: messages.length }, 'Kafka unavailable; Segment request not accepted');
    return error(503, 'Kafka is unavailable; nothing from this request was accepted, retry later');
  }
  const ok = accepted.length > 0 || messages.length === 0;
  return { code: ok ? 200 : 400, body: { success: ok, accepted: accepted.length, rejected } };
}

/** Each message mapped and checked against the contract; indexes are the request's. */
function checkMessages(options: SegmentRouteOptions, messages: readonly unknown[], context: SegmentRequestContext, origin: string | undefined, measure: boolean) {
  const events: Record<string, unknown>[] = [];
  const indexes: number[] = [];
  const refused: SegmentRejection[] = [];
  messages.forEach((message, index) => {
    const bytes = measure ? messageBytesOver(message, segmentLimits.maxMessageBytes) : 0;
    if (bytes > 0) return refused.push({ index, code: 'too_large', reason: `message is ${bytes} bytes (Segment's limit: 32 KB)` });
    const mapped = mapSegmentMessage(message, context);
    if (!mapped.ok) return refused.push({ index, code: mapped.code, reason: mapped.reason });
    const problem = urlProblem(mapped.event, origin);
    if (problem !== null) return refused.push({ index, code: 'forbidden', reason: problem });
    events.push(mapped.event);
    indexes.push(index);
  });
  const checked = splitDeleted(validateBatch(events, { now: context.receivedAt, ...options.limits }), options.tombstones);
  const at = (i: number) => indexes[i] as number;
  const rejected: SegmentRejection[] = [...refused, ...checked.rejected.map((r) => ({ ...r, index: at(r.index) }))].sort((a, b) => a.index - b.index);
  for (const r of rejected) options.metrics.rejected.inc({ code: r.code });
  return { accepted: checked.accepted.map((a) => ({ ...a, index: at(a.index) })), rejected };
}

/** Accepted events to the events topic, refused messages to the dead-letter topic (a deleted person's nowhere). */
async function send(
  options: SegmentRouteOptions,
  accepted: ReturnType<typeof checkMessages>['accepted'],
  rejected: readonly SegmentRejection[],
  messages: readonly unknown[],
  context: SegmentRequestContext,
): Promise<void> {
  const kept = rejected.filter((r) => r.code !== 'user_deleted');
  const events = accepted.map((a) => messageOf(a, context.receivedAt, options.privacy));
  const letters = kept.map((r) => deadLetterOf(r, messages[r.index], context));
  const stop = options.metrics.produceLatency.startTimer();
  try {
    await Promise.all([events.length > 0 ? options.sink.send(events) : undefined, letters.length > 0 ? options.deadLetters.send(letters) : undefined]);
  } finally {
    stop();
  }
  options.metrics.accepted.inc(events.length);
  options.metrics.deadLettered.inc(letters.length);
}
