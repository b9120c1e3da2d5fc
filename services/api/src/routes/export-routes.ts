import type { Readable } from 'node:stream';
import Type from 'typebox';
import type { RoutePlugin } from '../context.js';
import { AttributionQuery } from '../http/analytics-schemas.js';
import { errorResponses } from '../http/schemas.js';
import { attribution, queryRange } from '../views/analytics-queries.js';
import { attributionCsv, attributionParquet, exportColumns } from '../export/attribution-export.js';

/** `GET /v1/export/attribution.{parquet,csv}` (register with prefix `/v1/export`): the rows of `GET /v1/attribution` as a file. */
export const exportRoutes: RoutePlugin = async (app, { ctx }) => {
  for (const format of ['parquet', 'csv'] as const) {
    app.get(
      `/attribution.${format}`,
      {
        config: { role: 'analyst' },
        schema: {
          tags: ['export'],
          summary: `GET /v1/attribution as a ${format === 'parquet' ? 'Parquet' : 'CSV'} file`,
          description:
            `The same rows as GET /v1/attribution with the same parameters, columns ${exportColumns.join(', ')} ` +
            `(start/end: epoch ms). ${format === 'parquet' ? 'Written by parquetjs-lite into the response stream; the file metadata holds model, groupBy, granularity, from, to and batchWatermark.' : 'RFC 4180, with a header line.'}`,
          security: [{ apiKey: [] }],
          querystring: AttributionQuery,
          produces: [format === 'parquet' ? 'application/vnd.apache.parquet' : 'text/csv'],
          response: { 200: Type.Unsafe<string | Readable>({ type: 'string', format: 'binary', description: 'The file' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const range = queryRange(ctx, q);
        const answer = await attribution(ctx, q.model ?? 'last_touch', q.groupBy ?? 'channel', range, q.granularity ?? 'total');
        // The file name is built from validated values only (never from free-form input).
        const name = `attribution-${answer.model}-${answer.groupBy}-${range.from}-${range.to}.${format}`;
        reply.header('content-disposition', `attachment; filename="${name}"`);
        if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(attributionCsv(answer.rows));
        return reply.type('application/vnd.apache.parquet').send(
          attributionParquet(answer.rows, {
            model: answer.model,
            groupBy: answer.groupBy,
            granularity: answer.granularity,
            from: String(answer.from),
            to: String(answer.to),
            batchWatermark: answer.batchWatermark === null ? '' : String(answer.batchWatermark),
          }),
        );
      },
    );
  }
};
