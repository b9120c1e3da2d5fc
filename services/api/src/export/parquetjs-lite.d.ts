// The part of parquetjs-lite (no bundled types) the API uses: the exports' writer, footers.
declare module 'parquetjs-lite' {
  import type { Writable } from 'node:stream';

  export interface FieldDefinition {
    type: 'UTF8' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP_MILLIS' | 'INT32';
    optional?: boolean;
    compression?: 'UNCOMPRESSED' | 'GZIP' | 'SNAPPY';
  }
  export class ParquetSchema {
    constructor(fields: Record<string, FieldDefinition>);
  }
  export class ParquetWriter {
    static openStream(schema: ParquetSchema, stream: Writable, opts?: { rowGroupSize?: number; useDataPageV2?: boolean }): Promise<ParquetWriter>;
    appendRow(row: Record<string, unknown>): Promise<void>;
    setMetadata(key: string, value: string): void;
    close(): Promise<void>;
  }
  /** Reads a file's envelope; `readFooter` decodes its metadata only. */
  export class ParquetEnvelopeReader {
    static openFile(path: string): Promise<ParquetEnvelopeReader>;
    readFooter(): Promise<{ num_rows: number | { valueOf(): number } }>;
    close(): Promise<void>;
  }
  const parquet: { ParquetSchema: typeof ParquetSchema; ParquetWriter: typeof ParquetWriter; ParquetEnvelopeReader: typeof ParquetEnvelopeReader };
  export default parquet;
}
