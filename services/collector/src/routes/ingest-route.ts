import Type from 'typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eventLimits, validateBatch, type BatchValidation, type RejectionCode, type TimeLimits } from '@sigflow/events';
import type { EventMessage } from '@sigflow/kafka';
import { KafkaUnavailableError } from '@sigflow/kafka';
import type { CollectorConfig, EventLimitsConfig, PrivacyConfig } from '@sigflow/config';
import type { TombstoneSet } from '@sigflow/privacy';
import { messageOf, splitDeleted } from '../ingest/privacy-filter.js';
import type { CollectorMetrics } from '../collector-metrics.js';
import { identifyCaller, type Caller } from '../ingest/caller.js';
import { clientIp, stampUntrusted, type RequestOrigin } from '../ingest/browser-events.js';

/** Where accepted events go; resolves only once Kafka acknowledged them. */
export interface EventSink {
  send(messages: readonly EventMessage[]): Promise<void>;
}

export interface IngestRouteOptions {
  readonly collector: CollectorConfig;
  readonly limits: EventLimitsConfig;
  readonly sink: EventSink;
  readonly metrics: CollectorMetrics;
  readonly now: () => number;
  /** IP mode and salt (`SIGFLOW_PRIVACY_*`). */
  readonly privacy: PrivacyConfig;
  /** Deleted people, whose events are refused (`user_deleted`); none: nobody is refused. */
  readonly tombstones?: TombstoneSet;
}

const Rejected = Type.Object({
  index: Type.Integer({ description: 'Position of the event in the request (0-based; NDJSON: non-empty lines)' }),
  code: Type.String({ description: 'not_object | unknown_type | schema | too_large | future | expired | user_deleted | forbidden (not for a site key)' }),
  reason: Type.String(),
});
const IngestResult = Type.Object({
  accepted: Type.Integer({ description: 'Events Kafka acknowledged' }),
  rejected: Type.Array(Rejected),
});
const ErrorReply = Type.Object({ error: Type.String(), statusCode: Type.Integer() });

/**
 * Validates a request's events for its caller: a server's as sent; a site's or browser's with
 * `ip` and `user_agent` from the request (and a site's limited to its site), indexes kept.
 */
function validateFor(caller: Caller, values: unknown[], from: RequestOrigin, limits: TimeLimits): BatchValidation {
  if (caller.kind === 'server') return validateBatch(values, limits);
  const stamped = stampUntrusted(values, caller, from);
  const checked = validateBatch(stamped.values, limits);
  const at = (i: number) => stamped.indexes[i] as number;
  return {
    accepted: checked.accepted.map((a) => ({ ...a, index: at(a.index) })),
    rejected: [...stamped.rejected, ...checked.rejected.map((r) => ({ ...r, index: at(r.index) }))].sort((a, b) => a.index - b.index),
  };
}

/** `POST /v1/events`: validate each event, produce the valid ones, report the rest. */
export function registerIngestRoute(app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>, options: IngestRouteOptions): void {
  const { collector, limits, sink, metrics, now, privacy, tombstones } = options;
  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Ingest a batch of events',
        description:
          `A JSON array of events (content-type application/json) or NDJSON (application/x-ndjson), ` +
          `at most ${eventLimits.maxBatchEvents} events and ${eventLimits.maxBatchBytes} bytes. Each event is checked ` +
          `against the event contract; valid ones go to Kafka (key = user_id) and the answer comes after Kafka ` +
          `acknowledged them. Rejected events are listed with their index and reason. Browsers (the web tracker) ` +
          `send text/plain JSON (sendBeacon) with a site key as ?site=; their events get ip and user_agent from ` +
          `the request, as do all events of a request without a server key (x-api-key).`,
        headers: Type.Object({ 'x-api-key': Type.Optional(Type.String({ maxLength: 256 })), 'x-site-key': Type.Optional(Type.String({ maxLength: 256 })) }),
        querystring: Type.Object({ site: Type.Optional(Type.String({ maxLength: 256, description: 'Site key (public; for beacons, which cannot set headers)' })) }, { additionalProperties: false }),
        body: Type.Array(Type.Unknown(), { description: 'Events, see the event contract' }),
        response: { 202: IngestResult, 400: Type.Union([IngestResult, ErrorReply]), 401: ErrorReply, 403: ErrorReply, 413: ErrorReply, 503: ErrorReply },
      },
    },
    async (request, reply) => {
      const who = identifyCaller(collector, {
        serverKey: request.headers['x-api-key'],
        siteKey: request.query.site ?? request.headers['x-site-key'],
        origin: request.headers.origin,
      });
      if (!who.ok) {
        metrics.requests.inc({ status: 401 });
        return reply.code(401).send({ error: who.reason, statusCode: 401 });
      }
      metrics.callers.inc({ kind: who.caller.kind });
      const body = request.body;
      if (body.length > eventLimits.maxBatchEvents) {
        metrics.requests.inc({ status: 413 });
        return reply.code(413).send({
          error: `batch has ${body.length} events (limit ${eventLimits.maxBatchEvents})`,
          statusCode: 413,
        });
      }
      if (body.length === 0) {
        metrics.requests.inc({ status: 400 });
        return reply.code(400).send({ error: 'empty batch: send at least one event', statusCode: 400 });
      }
      metrics.batchSize.observe(body.length);
      const receivedAt = now();
      const from = { ip: clientIp(request.ip), userAgent: request.headers['user-agent'], origin: request.headers.origin };
      const { accepted, rejected } = splitDeleted(validateFor(who.caller, body, from, { now: receivedAt, ...limits }), tombstones);
      for (const r of rejected) metrics.rejected.inc({ code: r.code satisfies RejectionCode });

      const messages: EventMessage[] = accepted.map((a) => messageOf(a, receivedAt, privacy));
      if (messages.length > 0) {
        const stop = metrics.produceLatency.startTimer();
        try {
          await sink.send(messages);
        } catch (err) {
          if (!(err instanceof KafkaUnavailableError)) throw err;
          request.log.warn({ err, events: messages.length }, 'Kafka unavailable; batch not accepted');
          metrics.requests.inc({ status: 503 });
          return reply
            .code(503)
            .header('retry-after', String(collector.retryAfterSeconds))
            .send({ error: 'Kafka is unavailable; nothing from this request was accepted, retry later', statusCode: 503 });
        } finally {
          stop();
        }
        metrics.accepted.inc(messages.length);
      }
      const status = accepted.length === 0 ? 400 : 202;
      metrics.requests.inc({ status });
      return reply.code(status).send({ accepted: accepted.length, rejected });
    },
  );
}
