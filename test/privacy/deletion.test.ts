// A person's deletion end to end, every service a process of its own (collector, speed layer,
// archiver, batch worker, API) on the shared Kafka and Redis: traffic for six people through
// the collector, one of them deleted through the API. Then their id must be nowhere (every
// Redis key and value of the run, every Parquet file of the archive read with DuckDB), the
// recomputed batch views must equal those of a run without them (their archived events left
// out by this test, recomputed under a prefix of its own), everyone else's signals and profile
// must be unchanged, and later events of theirs must be dropped and counted at the collector,
// the speed layer and the archiver. Before the deletion, their export must equal what was sent.
// The last test scans the run's keys: each has a TTL or a named bound.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import type { SigflowEvent } from '@sigflow/events';
import { EventProducer } from '@sigflow/kafka';
import { ArchiveWriter } from '@sigflow/archive';
import { createBatchContext, recomputeHours } from '@sigflow/batch';
import { createRedis, deleteKeysWithPrefix, keyBound } from '@sigflow/store';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import type { ServiceProcess } from '../support/services.js';
import { waitUntil } from '../support/redis-keys.js';
import { archiveMentions, archivedEvents, metricValue, redisMentions, servedVersionHashes } from './lib.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const run = randomUUID().slice(0, 8);
const TARGET = `forget-me-${run}`;
const USERS = [`ann-${run}`, `bob-${run}`, TARGET, `cid-${run}`, `dee-${run}`, `eve-${run}`];

/** Three hours of traffic up to a minute ago: per person and hour an impression, a click, page views, an element click, a conversion. */
function traffic(now: number): SigflowEvent[] {
  const start = now - (now % HOUR) - 2 * HOUR;
  const events: SigflowEvent[] = [];
  USERS.forEach((user, u) => {
    const common = { user_id: user, ip: `198.51.100.${10 + u}`, user_agent: UA };
    for (let k = 0; k < 3; k++) {
      const t = start + k * HOUR + (5 + 3 * u) * MIN;
      if (t + 6 * MIN > now - MIN) continue;
      const ad = { campaign_id: `c${u % 2}`, ad_id: `a${u}`, channel: u % 2 === 0 ? 'search' : 'social' };
      const id = () => `ev-${randomUUID()}`;
      events.push(
        { ...common, ...ad, event_id: id(), type: 'impression', ts: t },
        { ...common, ...ad, event_id: id(), type: 'click', ts: t + 30_000 },
        { ...common, event_id: id(), type: 'page_view', ts: t + 60_000, page_id: 'home' },
        { ...common, event_id: id(), type: 'element_click', ts: t + 90_000, page_id: 'home', element_id: `btn-${u}` },
      );
      if (k !== 1) events.push({ ...common, event_id: id(), type: 'conversion', ts: t + 5 * MIN, value: 10 + u, currency: 'EUR' });
    }
  });
  return events.sort((a, b) => a.ts - b.ts);
}

describe('a person deleted, end to end', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-privacy-'));
  const refDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-privacy-ref-'));
  const scenario = new Scenario('privacy', {
    ...oneServerProcess,
    SIGFLOW_ARCHIVE_DIR: dir,
    SIGFLOW_API_KEYS: 'k:ops,pk:privacy',
    SIGFLOW_PRIVACY_REFRESH_MS: '200',
    SIGFLOW_PRIVACY_ARCHIVE_SETTLE_MS: '1000',
  });
  const refPrefix = `${scenario.config.redis.keyPrefix}-ref`;
  let collector: ServiceProcess;
  let speed: ServiceProcess;
  let archiver: ServiceProcess;
  let api: ServiceProcess;
  const sent = traffic(Date.now());
  const hours = [...new Set(sent.map((e) => e.ts - (e.ts % HOUR)))].sort((a, b) => a - b);
  const apiCall = async (method: string, url: string, key = 'k', body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, {
      method,
      headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, text: await res.text() };
  };
  const ingest = async (events: readonly unknown[]) => {
    const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    return { status: res.status, body: (await res.json()) as { accepted: number; rejected: { index: number; code: string }[] } };
  };
  const settled = async () => {
    await waitUntil('the speed layer to commit everything', () => scenario.speedLag(), (lag) => lag === 0, 90_000);
    await waitUntil('the archiver to commit everything', () => scenario.groupLag(scenario.config.archiver.groupId), (lag) => lag === 0, 90_000);
  };
  const userViews = async (user: string) => {
    const signals = JSON.parse((await apiCall('GET', `/v1/users/${user}/signals?includeInvalid=true&limit=1000`)).text) as unknown;
    const profile = JSON.parse((await apiCall('GET', `/v1/users/${user}/profile`)).text) as Record<string, unknown> & { sessions: Record<string, unknown>[] };
    const { asOf: _asOf, engagement: _decayedToNow, ...stable } = profile;
    return { signals, profile: { ...stable, sessions: profile.sessions.map(({ open: _open, ...s }) => s) } };
  };

  beforeAll(async () => {
    await scenario.setUp();
    collector = await scenario.collector();
    speed = await scenario.speed();
    archiver = await scenario.archiver(dir);
    const batch = await scenario.batchWorker(dir);
    api = await scenario.api();
    for (const s of [collector, speed, archiver, batch, api]) await s.start();
    await Promise.all([speed.ready(), archiver.ready(), collector.ready(), api.ready()]);
    for (let i = 0; i < sent.length; i += 500) expect((await ingest(sent.slice(i, i + 500))).body.accepted).toBe(Math.min(500, sent.length - i));
    await settled();
    // Batch views of every hour, the person counted in them.
    const reprocess = await apiCall('POST', '/v1/jobs/reprocess', 'k', { from: hours[0], to: (hours.at(-1) as number) + HOUR });
    expect(reprocess.status, reprocess.text).toBe(202);
    const { id } = JSON.parse(reprocess.text) as { id: string };
    await waitUntil('the reprocess to complete', async () => (JSON.parse((await apiCall('GET', `/v1/jobs/${id}`)).text) as { state: string }).state, (s) => s === 'completed', 120_000);
  }, 300_000);

  afterAll(async () => {
    await scenario.tearDown();
    const redis = createRedis(scenario.config.redis);
    await deleteKeysWithPrefix(redis, refPrefix);
    redis.disconnect();
    for (const d of [dir, refDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  it("exports exactly the person's events, then deletes them everywhere while everyone else stays as a run without them", async () => {
    const mine = sent.filter((e) => e.user_id === TARGET);
    // The hours with rows of the person (not every hour of the run: at some minutes of the hour
    // the others have events in the last hour and the person not yet).
    const theirHours = [...new Set(mine.map((e) => e.ts - (e.ts % HOUR)))].sort((a, b) => a - b);
    const exported = (await apiCall('GET', `/v1/users/${TARGET}/export`, 'pk')).text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(exported.map(({ received_at: _stamp, ...e }) => e)).toEqual(mine.sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : 1)));
    for (const e of exported) expect(typeof e['received_at']).toBe('number');

    // The run without the person: their archived events left out here, written and recomputed apart.
    const refConfig = loadConfig({ ...process.env, ...scenario.env, SIGFLOW_REDIS_PREFIX: refPrefix, SIGFLOW_ARCHIVE_DIR: refDir });
    const writer = await ArchiveWriter.open({ root: refDir });
    await writer.write((await archivedEvents(dir)).filter((a) => a.event.user_id !== TARGET));
    await writer.close();
    const refRedis = createRedis(refConfig.redis);
    await recomputeHours({ context: createBatchContext(refConfig, refRedis), from: hours[0] as number, to: (hours.at(-1) as number) + HOUR });
    const others = USERS.filter((u) => u !== TARGET);
    const before = await Promise.all(others.map(userViews));
    expect(await redisMentions(scenario.redis, scenario.config.redis.keyPrefix, TARGET)).not.toEqual([]);
    for (const h of theirHours) expect(await servedVersionHashes(scenario.redis, scenario.config.redis.keyPrefix, h)).not.toEqual(await servedVersionHashes(refRedis, refPrefix, h));

    const asked = await apiCall('DELETE', `/v1/users/${TARGET}`, 'pk');
    expect(asked.status).toBe(202);
    const { requestId, status } = JSON.parse(asked.text) as { requestId: string; status: string };
    const steps = new Set<string>();
    const done = await waitUntil(
      'the deletion to complete',
      async () => {
        const view = JSON.parse((await apiCall('GET', status, 'pk')).text) as { state: string; progress: { step?: string } | null; outcome: Record<string, unknown> | null };
        if (view.progress?.step) steps.add(view.progress.step);
        return view;
      },
      (v) => v.state === 'completed' || v.state === 'failed',
      180_000,
      100,
    );
    expect(done.state).toBe('completed');
    expect(done.outcome).toMatchObject({ speed: 'owner', hours: theirHours });
    expect(steps.has('done')).toBe(true);
    expect(requestId).toMatch(/^del-/);

    expect(await redisMentions(scenario.redis, scenario.config.redis.keyPrefix, TARGET)).toEqual([]);
    expect(await archiveMentions(dir, TARGET)).toEqual([]);
    for (const h of hours) expect(await servedVersionHashes(scenario.redis, scenario.config.redis.keyPrefix, h)).toEqual(await servedVersionHashes(refRedis, refPrefix, h));
    expect(await Promise.all(others.map(userViews))).toEqual(before);
    expect(JSON.parse((await apiCall('GET', `/v1/users/${TARGET}/signals?includeInvalid=true`)).text)).toMatchObject({ count: 0 });
    expect(JSON.parse((await apiCall('GET', `/v1/users/${TARGET}/profile`)).text)).toMatchObject({ known: false });
    refRedis.disconnect();

    // Later events of theirs: refused by the collector; one already past it (a producer that
    // skips the collector, a replay) dropped by the speed layer and the archiver. All counted.
    const late = { event_id: `ev-${randomUUID()}`, type: 'page_view', user_id: TARGET, ts: Date.now() - 1_000, page_id: 'home' };
    const refused = await ingest([late]);
    expect(refused.status).toBe(400);
    expect(refused.body.rejected).toMatchObject([{ index: 0, code: 'user_deleted' }]);
    expect(await metricValue(collector.metricsPort, 'sigflow_collector_events_rejected_total', { code: 'user_deleted' })).toBe(1);
    const producer = new EventProducer(scenario.kafka, scenario.topics.events);
    await producer.connect();
    await producer.send([{ key: TARGET, value: JSON.stringify({ ...late, event_id: `ev-${randomUUID()}`, received_at: Date.now() }) }]);
    await producer.disconnect();
    await settled();
    await waitUntil('the speed layer to count the dropped event', () => metricValue(speed.metricsPort, 'sigflow_speed_tombstoned_events_total'), (n) => n === 1, 30_000);
    await waitUntil('the archiver to count the dropped event', () => metricValue(archiver.metricsPort, 'sigflow_archiver_tombstoned_events_total'), (n) => n === 1, 30_000);
    expect(await redisMentions(scenario.redis, scenario.config.redis.keyPrefix, TARGET)).toEqual([]);
    expect(await archiveMentions(dir, TARGET)).toEqual([]);
  }, 300_000);

  it("leaves no key of the run without a TTL or a bound, and names each bound", async () => {
    const bounds = new Map<string, string[]>();
    const unbounded: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await scenario.redis.scan(cursor, 'MATCH', `${scenario.config.redis.keyPrefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if ((await scenario.redis.pttl(key)) !== -1) continue;
        const bound = keyBound(scenario.keys, key);
        if (bound === null) unbounded.push(key);
        else bounds.set(bound, [...(bounds.get(bound) ?? []), key]);
      }
    } while (cursor !== '0');
    expect(unbounded).toEqual([]);
    // The run wrote keys of each kind that lives by a bound rather than a TTL.
    const named = [...bounds.keys()].join('\n');
    for (const kind of ['one value per Kafka partition', 'archive hour within the retention', 'deletions of one retention period', 'finished jobs']) expect(named).toContain(kind);
  });
});
