import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import { eventJsonStructType } from './dist/archive-columns.js';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const N = 50000, DAY = Date.UTC(2026,10,18) + 10*3600000;
const msgs = Array.from({length:N}, (_, n) => Buffer.from(JSON.stringify({ event_id: `w-${n}`, user_id: `bench-user-${n%20000}`, ts: DAY+n*3, received_at: DAY+n*3+120, ip: `10.1.${n%200}.${n%7}`, user_agent: CHROME, type: 'impression', campaign_id: `c-${n%20}`, ad_id: `a-${n%100}`, channel: 'search', placement: 'feed' })));
const db = await DuckDBInstance.create(':memory:', { threads: process.argv[2] ?? '1' });
const c = await db.connect();
await c.run(`CREATE TEMP TABLE raw (j VARCHAR, kafka_partition INTEGER, kafka_offset BIGINT)`);
for (let round = 0; round < 3; round++) {
let t = performance.now(); const T = {};
const a = await c.createAppender('raw', 'main', 'temp');
msgs.forEach((m, i) => { a.appendVarchar(m.toString('utf8')); a.appendInteger(i % 4); a.appendBigInt(BigInt(i)); a.endRow(); });
a.flushSync(); a.closeSync(); T.append = performance.now() - t; t = performance.now();
await c.run(`CREATE OR REPLACE TEMP TABLE rows AS SELECT kafka_partition, kafka_offset, CASE WHEN json_valid(j) AND json_type(j) = 'OBJECT' THEN from_json(j, '${eventJsonStructType}') END AS e FROM raw`);
T.parse = performance.now() - t; t = performance.now();
for (let p = 0; p < 4; p++) await c.run(`COPY (SELECT e.*, kafka_partition, kafka_offset FROM rows WHERE kafka_partition = ${p} ORDER BY kafka_offset) TO '/tmp/bp/x${p}.parquet' (FORMAT parquet, COMPRESSION zstd)`);
T.copy = performance.now() - t;
await c.run('DELETE FROM raw');
console.log(Object.fromEntries(Object.entries(T).map(([k, v]) => [k, Math.round(v)])));
}
