// Segments, end to end over generator traffic: definitions set through the API, the speed layer
// evaluating them at each event, members, sizes and profiles read through the API, entries and
// exits on analytics.v1, a definition change applied from each user's next event, and a
// reprocess recomputing the members under the current definitions. The expected members are
// computed here from the events sent and their labels (validity known by construction), not
// with packages/core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsMessageProblem } from '@sigflow/events';
import { EventStream, type GeneratedEvent } from '@sigflow/loadgen';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import { waitUntil } from '../support/redis-keys.js';
import { readTopicUntil } from '../support/read-topic.js';
import type { ServiceProcess } from '../support/services.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 10, 20, 6, 0, 0);
const SPLIT = START + 70 * MIN;

/** A user's non-duplicate events, in time order, with validity as the generator built them. */
interface Ev {
  readonly ts: number;
  readonly type: string;
  readonly valid: boolean;
  readonly channel: string | undefined;
}

type Rule = (events: readonly Ev[], t: number) => boolean;
const within = (events: readonly Ev[], t: number, ms: number, test: (e: Ev) => boolean) => events.filter((e) => e.ts >= t - ms && e.ts <= t && test(e));

/** The rules below, as plain predicates over a user's events at time t. */
const expected: Record<string, Rule> = {
  clickers: (ev, t) => within(ev, t, 24 * HOUR, (e) => e.valid && e.type === 'click').length >= 1,
  multichannel: (ev, t) => new Set(within(ev, t, 7 * 24 * HOUR, (e) => e.valid && (e.type === 'impression' || e.type === 'click')).map((e) => e.channel)).size >= 2,
  flagged: (ev, t) => within(ev, t, 24 * HOUR, (e) => !e.valid).length > 0,
  readers: (ev, t) => within(ev, t, HOUR, (e) => e.valid && e.type === 'page_view').length >= 1,
};
const readersV2: Rule = (ev, t) => within(ev, t, HOUR, (e) => e.valid && e.type === 'page_view').length >= 2;
const definitions: Record<string, unknown> = {
  clickers: { all: [{ feature: 'count:click:24h', op: '>=', value: 1 }] },
  multichannel: { all: [{ feature: 'channels', op: '>=', value: 2 }] },
  flagged: { any: [{ feature: 'flagged', op: '==', value: true }] },
  readers: { all: [{ feature: 'count:page_view:1h', op: '>=', value: 1 }] },
};

describe('segment members through the API equal the generator truth', () => {
  let scenario: Scenario;
  let archiveDir: string;
  let api: ServiceProcess;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${api.metricsPort}${url}`, { method, headers: { 'x-api-key': 'k', 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  /** Every member of a segment, page by page. */
  const members = async (name: string, source = 'speed') => {
    const all = new Map<string, { entered: number }>();
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const { json } = await call('GET', `/v1/segments/${name}/members?limit=250&source=${source}${cursor ? `&cursor=${cursor}` : ''}`);
      for (const m of json['members'] as { userId: string; entered: number }[]) all.set(m.userId, m);
      cursor = json['nextCursor'] as string | null;
      pages++;
    }
    return { all, pages };
  };

  beforeAll(async () => {
    archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-segments-'));
    scenario = new Scenario('segments', { ...oneServerProcess, SIGFLOW_ARCHIVE_DIR: archiveDir, SIGFLOW_SEGMENTS_REFRESH_MS: '200', SIGFLOW_BATCH_VIEW_PARQUET: 'false' });
    await scenario.setUp();
    api = await scenario.api();
    const off = '0 0 1 1 *';
    const batch = await scenario.batchWorker(archiveDir, 'batch', { SIGFLOW_BATCH_RECOMPUTE_EVERY: off, SIGFLOW_BATCH_RETRAIN_EVERY: off, SIGFLOW_BATCH_RETENTION_EVERY: off });
    await Promise.all([api.start(), batch.start()]);
    for (const [name, rule] of Object.entries(definitions)) expect((await call('PUT', `/v1/segments/${name}`, { rule })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await scenario?.tearDown();
    fs.rmSync(archiveDir, { recursive: true, force: true });
  });

  it('members, entry times, sizes, profiles and analytics.v1 after a definition change; a reprocess applies the current definitions to everyone', async () => {
    const generated = [...new EventStream({ seed: 47, events: 24_000, start: START, span: 2 * HOUR, partitions: 4, duplicates: 0.02, bots: 0.03, orphans: 0.05, tooFast: 0.05, rules: scenario.config.rules })];
    const byUser = new Map<string, Ev[]>();
    const phaseTwoUsers = new Set<string>();
    for (const g of generated) {
      if (g.duplicate) continue;
      const e = g.event as { type: string; ts: number; user_id: string; channel?: string };
      const list = byUser.get(e.user_id) ?? [];
      list.push({ ts: e.ts, type: e.type, valid: g.validity === 'valid', channel: e.channel });
      byUser.set(e.user_id, list);
      if (g.emitAt >= SPLIT) phaseTwoUsers.add(e.user_id);
    }
    const lastTs = (u: string) => Math.max(...byUser.get(u)!.map((e) => e.ts));
    const expectedMembers = (rule: Rule, users: Iterable<string>) => [...users].filter((u) => rule(byUser.get(u)!, lastTs(u))).sort();

    const speed = await scenario.speed();
    const archiver = await scenario.archiver(archiveDir);
    await Promise.all([speed.start(), archiver.start()]);
    const sink = scenario.kafkaSink();
    await sink.connect();
    const send = async (list: readonly GeneratedEvent[]) => {
      await sink.write(list.map((g) => ({ key: g.key, partition: g.partition, json: g.json })));
      await sink.flush();
      const sent = generated.indexOf(list[list.length - 1]!) + 1;
      await waitUntil('the speed layer to process what was sent', () => scenario.speedCounters(), (c) => (c['events'] ?? 0) + (c['duplicates'] ?? 0) >= sent, 120_000);
    };
    const phaseOne = generated.filter((g) => g.emitAt < SPLIT);
    await send(phaseOne);
    // The readers rule changes: from each user's next event on, 2 page views in an hour.
    const changed = await call('PUT', '/v1/segments/readers', { rule: { all: [{ feature: 'count:page_view:1h', op: '>=', value: 2 }] } });
    expect(changed.json).toMatchObject({ version: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // five refreshes of the speed layer
    await send(generated.slice(phaseOne.length));
    await sink.close();

    const users = [...byUser.keys()];
    // The change matters: users active after it that the old rule would keep are out.
    const phaseTwo = users.filter((u) => phaseTwoUsers.has(u));
    expect(expectedMembers(expected['readers']!, phaseTwo).length - expectedMembers(readersV2, phaseTwo).length).toBeGreaterThan(20);
    for (const [name, rule] of Object.entries(expected)) {
      const live = name === 'readers' ? [...new Set([...expectedMembers(readersV2, users.filter((u) => phaseTwoUsers.has(u))), ...expectedMembers(rule, users.filter((u) => !phaseTwoUsers.has(u)))])].sort() : expectedMembers(rule, users);
      const got = await members(name);
      expect([...got.all.keys()].sort(), name).toEqual(live);
      expect(live.length, name).toBeGreaterThan(20);
      expect(got.pages, name).toBeGreaterThan(live.length / 250);
      // The size at the end equals the members.
      const { json: size } = await call('GET', `/v1/segments/${name}/size?from=${START}&to=${START + 3 * HOUR}&granularity=hour`);
      expect((size['rows'] as { size: number }[]).at(-1)?.size, name).toBe(live.length);
    }
    // Entry times: a clicker entered at its first valid click, a flagged user at its first invalid event.
    const clickers = await members('clickers');
    for (const [u, m] of clickers.all) expect(m.entered, u).toBe(byUser.get(u)!.find((e) => e.valid && e.type === 'click')!.ts);
    const flagged = await members('flagged');
    for (const [u, m] of flagged.all) expect(m.entered, u).toBe(byUser.get(u)!.find((e) => !e.valid)!.ts);
    // A profile lists the user's segments with the time entered.
    const someone = [...clickers.all.keys()].find((u) => flagged.all.has(u))!;
    const { json: profile } = await call('GET', `/v1/users/${encodeURIComponent(someone)}/profile`);
    expect((profile['segments'] as { name: string; entered: number }[]).filter((s) => s.name === 'clickers' || s.name === 'flagged').sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      expect.objectContaining({ name: 'clickers', entered: clickers.all.get(someone)!.entered }),
      expect.objectContaining({ name: 'flagged', entered: flagged.all.get(someone)!.entered }),
    ]);

    // analytics.v1: one entry per flagged user (nobody leaves that segment within the traffic's two hours).
    const entries = await readTopicUntil(scenario.kafka, scenario.topics.analytics, (m) => typeof m['segment'] === 'string', (list) => list.filter((m) => m['segment'] === 'flagged').length >= flagged.all.size);
    expect(entries.filter((m) => m['segment'] === 'flagged' && m['kind'] === 'segment_entered').map((m) => m['user_id']).sort()).toEqual([...flagged.all.keys()].sort());
    // Every one of them as the topic's contract (packages/events' SegmentChangeMessage) says.
    expect(entries.map(analyticsMessageProblem).filter((p) => p !== null)).toEqual([]);

    // A reprocess of the traffic's hours recomputes every member under the CURRENT definitions (readers v2 for all).
    await waitUntil('the archiver to commit everything', () => scenario.groupLag(scenario.env['SIGFLOW_ARCHIVER_GROUP']!), (lag) => lag === 0, 120_000);
    const { json: job } = await call('POST', '/v1/jobs/reprocess', { from: START, to: START + 3 * HOUR });
    const done = await waitUntil('the reprocess', async () => (await call('GET', `/v1/jobs/${job['id'] as string}`)).json, (j) => j['state'] === 'completed' || j['state'] === 'failed', 240_000);
    expect(done['state']).toBe('completed');
    const answer = (done['returnValue'] as { segments: { definitionsVersion: number; segments: { name: string; version: number }[] } }).segments;
    expect(answer.definitionsVersion).toBe(5);
    expect(answer.segments.map((s) => [s.name, s.version]).sort()).toEqual([['clickers', 1], ['flagged', 1], ['multichannel', 1], ['readers', 2]]);
    const batchReaders = await members('readers', 'batch');
    expect([...batchReaders.all.keys()].sort()).toEqual(expectedMembers(readersV2, users));
    const batchFlagged = await members('flagged', 'batch');
    expect([...batchFlagged.all.keys()].sort()).toEqual([...flagged.all.keys()].sort());
  });
});
