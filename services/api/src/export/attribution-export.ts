import { PassThrough, type Readable } from 'node:stream';
import parquet from 'parquetjs-lite';
import type { AttributionRow } from '@sigflow/serving';

/** Columns of both export formats: exactly the fields of the JSON route's rows, in its order. */
export const exportColumns = ['start', 'end', 'key', 'conversions', 'revenue', 'source'] as const;

const schema = new parquet.ParquetSchema({
  start: { type: 'INT64' },
  end: { type: 'INT64' },
  key: { type: 'UTF8' },
  conversions: { type: 'DOUBLE' },
  revenue: { type: 'DOUBLE' },
  source: { type: 'UTF8' },
});

/**
 * The rows as a Parquet file, written by parquetjs-lite straight into the returned stream
 * (row groups as they fill, the footer at the end). `metadata` goes into the file's key-value
 * metadata. A write error destroys the stream, so the client sees a broken download.
 */
export function attributionParquet(rows: readonly AttributionRow[], metadata: Record<string, string>): Readable {
  const out = new PassThrough();
  void (async () => {
    const writer = await parquet.ParquetWriter.openStream(schema, out, { rowGroupSize: 8192 });
    for (const [k, v] of Object.entries(metadata)) writer.setMetadata(k, v);
    for (const row of rows) {
      await writer.appendRow({
        start: row.start,
        end: row.end,
        key: row.key,
        conversions: row.conversions,
        revenue: row.revenue,
        source: row.source,
      });
    }
    await writer.close();
  })().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

/** A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The rows as CSV with a header line, generated line by line. */
export function attributionCsv(rows: readonly AttributionRow[]): Readable {
  const out = new PassThrough();
  void (async () => {
    out.write(`${exportColumns.join(',')}\n`);
    for (const row of rows) {
      const line = `${exportColumns.map((c) => csvField(row[c])).join(',')}\n`;
      if (!out.write(line)) await new Promise((resolve) => out.once('drain', resolve));
    }
    out.end();
  })();
  return out;
}
