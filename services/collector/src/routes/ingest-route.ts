import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { eventLimits, validateBatch, type RejectionCode } from '@sigflow/events';
import type { EventMessage } from '@sigflow/kafka';
import { KafkaUnavailableError } from '@sigflow/kafka';
import type { CollectorConfig, EventLimitsConfig } from '@sigflow/config';
import type { CollectorMetrics } from '../collector-metrics.js';
import { apiKeyMatches } from '../ingest/api-key.js';

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
}

const Rejected = Type.Object({
  index: Type.Integer({ description: 'Position of the event in the request (0-based; NDJSON: non-empty lines)' }),
  code: Type.String({ description: 'not_object | unknown_type | schema | too_large | future | expired' }),
  reason: Type.String(),
});
const IngestResult = Type.Object({
  accepted: Type.Integer({ description: 'Events Kafka acknowledged' }),
  rejected: Type.Array(Rejected),
});
const ErrorReply = Type.Object({ error: Type.String(), statusCode: Type.Integer() });

/** `POST /v1/events`: validate each event, produce the valid ones, report the rest. */
export function registerIngestRoute(app: FastifyInstance, options: IngestRouteOptions): void {
  const { collector, limits, sink, metrics, now } = options;
  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Ingest a batch of events',
        description:
          `A JSON array of events (content-type application/json) or NDJSON (application/x-ndjson), ` +
          `at most ${eventLimits.maxBatchEvents} events and ${eventLimits.maxBatchBytes} bytes. Each event is checked ` +
          `against the event contract; valid ones go to Kafka (key = user_id) and the answer comes after Kafka ` +
          `acknowledged them. Rejected events are listed with their index and reason.`,
        headers: Type.Object({ 'x-api-key': Type.Optional(Type.String({ maxLength: 256 })) }),
        body: Type.Array(Type.Unknown(), { description: 'Events, see the event contract' }),
        response: { 202: IngestResult, 400: Type.Union([IngestResult, ErrorReply]), 401: ErrorReply, 413: ErrorReply, 503: ErrorReply },
      },
    },
    async (request, reply) => {
      if (collector.apiKeys.length > 0 && !apiKeyMatches(request.headers['x-api-key'] as string | undefined, collector.apiKeys)) {
        metrics.requests.inc({ status: 401 });
        return reply.code(401).send({ error: 'missing or unknown API key (header x-api-key)', statusCode: 401 });
      }
      const body = request.body as unknown[];
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
      const { accepted, rejected } = validateBatch(body, { now: receivedAt, ...limits });
      for (const r of rejected) metrics.rejected.inc({ code: r.code satisfies RejectionCode });

      const messages: EventMessage[] = accepted.map(({ event, json }) => ({
        key: event.user_id,
        // The collector's stamp wins over any client value; appending keeps the client's bytes.
        value:
          event.received_at === undefined
            ? `${json.slice(0, -1)},"received_at":${receivedAt}}`
            : JSON.stringify({ ...event, received_at: receivedAt }),
      }));
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
