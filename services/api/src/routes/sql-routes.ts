import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import { keyIdentityOf } from '../auth/auth-hooks.js';
import type { ApiContext, RoutePlugin } from '../context.js';
import { BadParameterError } from '../errors.js';
import { parseRange } from '../http/params.js';
import { ErrorReply, Model, TimeParam, errorResponses } from '../http/schemas.js';
import { answerExtensions, answerMediaTypes, negotiateFormat } from '../sql/formats/answer-format.js';
import { KeySlots } from '../sql/key-slots.js';
import { readRedisTables } from '../sql/redis-tables.js';
import { sqlTables } from '../sql/sql-catalogue.js';
import { SqlQueries, type SqlAnswer } from '../sql/sql-queries.js';
import { SqlRefusal } from '../sql/sql-refusal.js';
import { SqlWorkerPool } from '../sql/worker-pool.js';

const DAY_MS = 86_400_000;

/** The limits an analyst's query runs under (also served by GET /v1/sql/tables). */
function limitsOf(ctx: ApiContext) {
  const s = ctx.config.sql;
  return { maxRows: s.maxRows, timeoutMs: s.timeoutMs, queriesPerKey: s.queriesPerKey, workers: s.workers, threads: s.threads, memoryMb: s.memoryMb, tempMb: s.tempMb };
}

const Column = Type.Object({ name: Type.String(), type: Type.String(), description: Type.String() });
const Table = Type.Object({ name: Type.String(), source: Type.String(), description: Type.String(), columns: Type.Array(Column) });

/** Every query is logged with the key that ran it (named by a digest, never the key), how long it took and how it ended. */
function logQuery(request: FastifyRequest, sql: string, started: number, outcome: Record<string, unknown>): void {
  const { key, role } = keyIdentityOf(request);
  request.log.info(
    { sqlQuery: { key, role, durationMs: Math.round(performance.now() - started), sqlSha256: createHash('sha256').update(sql).digest('hex').slice(0, 16), sql: sql.slice(0, 1_000), ...outcome } },
    'sql query',
  );
}

/** A refusal as the API answers it: a 400 names the field at fault. */
function answerOf(err: unknown): unknown {
  return err instanceof SqlRefusal && err.statusCode === 400 && err.parameter ? new BadParameterError(err.parameter, err.message) : err;
}

/**
 * `POST /v1/sql` and `GET /v1/sql/tables` (register with prefix `/v1/sql`): analysts' SQL over
 * the archive, the batch views and the tables read from Redis, run in sandboxed worker
 * processes (`src/sql/`), never in this process.
 */
export const sqlRoutes: RoutePlugin = async (app, { ctx }) => {
  const settings = { archiveRoot: ctx.config.archiver.dir, threads: ctx.config.sql.threads, memoryMb: ctx.config.sql.memoryMb, tempMb: ctx.config.sql.tempMb };
  const pool = new SqlWorkerPool({ size: ctx.config.sql.workers, settings });
  const queries = new SqlQueries(pool, ctx.config.sql.timeoutMs);
  const slots = new KeySlots(ctx.config.sql.queriesPerKey);
  app.addHook('onClose', async () => pool.close());

  app.get(
    '/tables',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'The tables and columns a SQL query may read, and the limits it runs under',
        security: [{ apiKey: [] }],
        response: { 200: Type.Object({ tables: Type.Array(Table), limits: Type.Record(Type.String(), Type.Integer()) }), ...errorResponses },
      },
    },
    async () => ({
      tables: sqlTables.map((t) => ({ name: t.name, source: t.source, description: t.description, columns: t.columns.map((c) => ({ ...c })) })),
      limits: limitsOf(ctx),
    }),
  );

  const Body = Type.Object(
    {
      sql: Type.String({ minLength: 1, maxLength: 32_000, description: 'One SELECT statement (WITH, FROM-first, VALUES, DESCRIBE and SUMMARIZE too) over the tables of GET /v1/sql/tables' }),
      maxRows: Type.Optional(Type.Integer({ minimum: 1, maximum: ctx.config.sql.maxRows, description: `Refuse (413) a result of more rows than this (default and at most ${ctx.config.sql.maxRows})` })),
      from: Type.Optional(TimeParam('Start of what the Redis tables (reconciliation, segment_sizes) cover (default: to - 24 h)')),
      to: Type.Optional(TimeParam('End of what the Redis tables cover, exclusive (default: now)')),
      model: Type.Optional(Model),
    },
    { additionalProperties: false },
  );

  app.post(
    '',
    {
      config: { role: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: "An analyst's SQL query, answered as JSON, CSV, Parquet or Arrow IPC (by Accept)",
        description:
          'Runs one SELECT in a sandboxed DuckDB worker process (external access off, only the archive\'s folders readable, no extension, ' +
          'configuration locked, memory, threads and spill bounded) and streams the answer in the format the Accept header asks for: ' +
          `${Object.values(answerMediaTypes).join(', ')} (default JSON). JSON holds columns, rowCount, stats and rows; the other formats ` +
          'carry the statistics in headers (x-sql-rows, x-sql-rows-scanned, x-sql-files-read, x-sql-seconds). Refused: anything but one ' +
          'SELECT, files outside the archive (400); past the time limit (408); more rows than the cap, more memory or spill space than the ' +
          'sandbox has (413); more queries at once than the key may run (429). Every query is logged with its key, duration and outcome.',
        security: [{ apiKey: [] }],
        body: Body,
        produces: Object.values(answerMediaTypes),
        response: {
          200: Type.Unsafe<string | Readable>({ type: 'string', format: 'binary', description: 'The answer in the negotiated format' }),
          406: ErrorReply,
          408: ErrorReply,
          413: ErrorReply,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const format = negotiateFormat(request.headers.accept);
      if (format === null) return reply.code(406).send({ error: `the answer comes as ${Object.values(answerMediaTypes).join(', ')}; Accept names none of them`, statusCode: 406 });
      const body = request.body;
      const range = parseRange(body.from, body.to, { now: ctx.now(), maxRangeMs: ctx.config.api.maxRangeMs, defaultSpanMs: DAY_MS });
      const started = performance.now();
      let answer: SqlAnswer;
      const giveBack = slots.take(keyIdentityOf(request).key);
      try {
        answer = await queries.run({
          sql: body.sql,
          format,
          maxRows: body.maxRows ?? ctx.config.sql.maxRows,
          readRedisTables: (names) => readRedisTables(ctx, names, { range, model: body.model ?? 'last_touch' }),
        });
      } catch (err) {
        giveBack();
        const status = err instanceof SqlRefusal ? err.statusCode : ((err as { statusCode?: number }).statusCode ?? 500);
        logQuery(request, body.sql, started, { outcome: 'refused', status, reason: err instanceof Error ? err.message.slice(0, 300) : String(err) });
        throw answerOf(err);
      }
      answer.body.once('close', giveBack);
      logQuery(request, body.sql, started, { outcome: 'answered', status: 200, format, rows: answer.rowCount, ...answer.stats });
      reply
        .type(answerMediaTypes[format])
        .header('x-sql-rows', String(answer.rowCount))
        .header('x-sql-rows-scanned', String(answer.stats.rowsScanned))
        .header('x-sql-files-read', String(answer.stats.filesRead))
        .header('x-sql-seconds', String(answer.stats.seconds));
      if (format !== 'json') reply.header('content-disposition', `attachment; filename="sigflow-query.${answerExtensions[format]}"`);
      return reply.send(answer.body);
    },
  );
};
