// Event data is what reaches DuckDB most: the archiver parses every accepted event with DuckDB
// and the batch layer recomputes views from the Parquet archive with it. Events whose ids carry
// SQL-injection strings, quotes, path traversal and non-ASCII (all valid under the contract) go
// through the archiver's writer and a real recompute; the views must hold them verbatim, with the
// right counts, and no statement may have run (no file appears where an injected COPY would put it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '@sigflow/config';
import { validateEvent, type ReceivedEvent } from '@sigflow/events';
import { ArchiveWriter } from '@sigflow/archive';
import { createRedis, fieldParts, StoreKeys } from '@sigflow/store';
import { recomputeHours, viewFolder } from '@sigflow/batch';
import { deleteByPrefix } from '../../support/redis-keys.js';
import { recordScenario } from '../support/report.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10);
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-hostile-'));
const pwned = path.join(base, 'pwned.csv');
const hostileIds = [
  "' OR 1=1 --",
  '"; DROP TABLE fed; --',
  `x'); COPY (SELECT 1) TO '${pwned}'; --`,
  "1' UNION SELECT * FROM read_csv_auto('/etc/passwd') --",
  '../../../../../tmp/evil',
  '${7*7} $(id) `id`',
  'ж中😀 \u202e\ufffd',
  '\\x00\\u0000',
];

describe('hostile strings in event data through DuckDB (archiver writer, batch recompute)', () => {
  const id = randomUUID().slice(0, 8);
  const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: `t-hostile-${id}`, SIGFLOW_ARCHIVE_DIR: path.join(base, 'archive') });
  const redis = createRedis(config.redis);
  const keys = new StoreKeys(config.redis.keyPrefix);
  afterAll(async () => {
    await deleteByPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('are archived, recomputed and served verbatim with exact counts; nothing injected runs', async () => {
    let passed = false;
    const events: ReceivedEvent[] = [];
    let inViews = 0;
    try {
      let n = 0;
      const at = (i: number) => T0 + 60_000 + i * 20_000;
      hostileIds.forEach((hostile, k) => {
        const user = `${hostile}#user`;
        const eventId = (what: string) => `${hostile.slice(0, 40)}#${k}${what}`; // ids: 64 characters at most
        for (let i = 0; i < 3; i++) {
          events.push({
            event_id: eventId(`imp${i}`),
            type: 'impression',
            user_id: `${user}${i}`,
            ts: at(k * 6 + i),
            received_at: at(k * 6 + i) + 50,
            campaign_id: hostile,
            ad_id: hostile,
            channel: 'search',
            ip: hostile.slice(0, 60),
            // (A user agent is judged by isbot: some of these strings read as bots, which is right.)
            user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
            attrs: { note: hostile },
          });
        }
        events.push({ event_id: eventId('click'), type: 'click', user_id: `${user}0`, ts: at(k * 6) + 5_000, received_at: at(k * 6) + 5_050, campaign_id: hostile, ad_id: hostile, channel: 'search' });
        events.push({ event_id: eventId('el'), type: 'element_click', user_id: user, ts: at(k * 6 + 4), received_at: at(k * 6 + 4) + 50, page_id: hostile, element_id: hostile });
      });
      for (const e of events) {
        const { received_at: _r, ...sent } = e;
        expect(validateEvent(sent).ok, `valid under the contract: ${JSON.stringify(sent).slice(0, 80)}`).toBe(true);
      }
      const writer = await ArchiveWriter.open({ root: config.archiver.dir });
      try {
        const flush = await writer.writeMessages(events.map((event) => ({ value: JSON.stringify(event), partition: 0, offset: String(n++) })));
        expect(flush.rows).toBe(events.length);
        expect(flush.rejected).toBe(0);
      } finally {
        await writer.close();
      }

      const result = await recomputeHours({ config: { ...config, batch: { ...config.batch, duckdbThreads: 1 } }, redis, from: T0, to: T0 + HOUR, computedBy: 'hostile-data' });
      expect(result.hours).toHaveLength(1);
      const hour = result.hours[0]!;
      inViews = hour.events;
      expect(hour.events).toBe(events.length);

      // Redis batch views: one metrics hash per hostile campaign id, the exact counts.
      for (const hostile of hostileIds) {
        const metrics = await redis.hgetall(keys.batchMetrics(hostile, T0, hour.version));
        const sum = (metric: string) => Object.entries(metrics).reduce((a, [f, v]) => a + (fieldParts(f).at(-1) === metric ? Number(v) : 0), 0);
        expect({ hostile, impressions: sum('impressions'), clicks: sum('clicks') }).toEqual({ hostile, impressions: 3, clicks: 1 });
        const heatmap = await redis.hgetall(keys.batchHeatmap(hostile, T0, hour.version));
        expect(Object.values(heatmap).reduce((a, v) => a + Number(v), 0), `heatmap of page ${hostile}`).toBe(1);
      }

      // The analysts' Parquet views hold the same strings as data (read back with bound paths).
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      try {
        const file = path.join(viewFolder(config.archiver.dir, 'window_metrics', T0), 'data.parquet');
        const rows = (await conn.runAndReadAll('SELECT campaign_id, ad_id, sum(impressions)::INTEGER, sum(clicks)::INTEGER FROM read_parquet($p) GROUP BY ALL', { p: file })).getRows();
        expect(rows.map((r) => r.join('|')).sort()).toEqual(hostileIds.map((h) => [h, h, 3, 1].join('|')).sort());
        const archived = (
          await conn.runAndReadAll('SELECT count(*)::INTEGER, count(DISTINCT campaign_id)::INTEGER FROM read_parquet($p)', {
            p: path.join(config.archiver.dir, 'events', '**', '*.parquet'),
          })
        ).getRows();
        expect(archived).toEqual([[events.length, hostileIds.length]]);
      } finally {
        conn.closeSync();
        instance.closeSync();
      }

      // Nothing ran: no file where the injected COPY would write, nothing outside archive/ under base.
      expect(fs.existsSync(pwned)).toBe(false);
      expect(fs.readdirSync(base).sort()).toEqual(['archive']);
      passed = true;
    } finally {
      recordScenario({
        suite: 'input',
        scenario: `hostile-event-data-through-duckdb (${hostileIds.length} hostile ids)`,
        eventsSent: events.length,
        eventsInViews: inViews,
        lost: Math.max(0, events.length - inViews),
        doubleCounted: Math.max(0, inViews - events.length),
        maxRecoveryMs: null,
        requestsFailed: 0,
        result: passed ? 'pass' : 'fail',
      });
    }
  });
});
