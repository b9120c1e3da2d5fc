// Bad input, collector: a real collector process on a real Kafka topic gets 2,000 seeded bodies
// (mixed valid/invalid JSON arrays and NDJSON, byte-mutated bodies, random JSON and bytes, deep
// nesting, huge strings, invalid UTF-8, wrong content types, limits) plus hand-made edge cases.
// Invariants: every request is answered 2xx/4xx, the process stays up, in mixed batches exactly
// the valid events are accepted (the rejected indexes are exactly the invalid ones), and Kafka
// holds every accepted event once and nothing else.
//
// Invalid UTF-8 (decided here, documented in the report): the collector decodes bodies as UTF-8
// with replacement, so a malformed byte sequence inside a string becomes U+FFFD; the event is
// valid if the field allows U+FFFD (every printable-id field and free text do) and is accepted
// as such. Unpaired surrogates written as JSON escapes (\ud800) are not Unicode and are rejected
// (`schema`): DuckDB's JSON reader refuses them, so the archive could not keep such an event.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopicMessages, topicOffsets } from '@sigflow/kafka';
import { eventLimits } from '@sigflow/events';
import { freePort } from '../../../infra/lib/process.mjs';
import { Scenario } from '../../support/scenario.js';
import { ServiceProcess } from '../../support/services.js';
import { recordScenario } from '../support/report.js';
import { deepText, invalidElement, mutateBytes, randomBytes, randomJson, Rng, validEvent } from './fuzz-bodies.js';
import { rawRequest, rawSocket, rawSocketRequest, type RawAnswer } from './raw-http.js';

const SEED = Number(process.env['SIGFLOW_FUZZ_SEED'] ?? 20261121);
const BODIES = Number(process.env['SIGFLOW_FUZZ_BODIES'] ?? 2_000);
const CONCURRENCY = 4;

interface Body {
  readonly n: number;
  readonly kind: string;
  readonly contentType: string | undefined;
  readonly bytes: Buffer;
  /** Exact expectations for bodies built to have them; undefined: any 2xx/4xx. */
  readonly expect?: { status: number; accepted?: number; rejected?: number[] };
  /** Event ids that must be in Kafka (once) when the expected status is 202. */
  readonly validIds: readonly string[];
}

/** What the test run put in and got back; the read-back compares Kafka with it. */
const ledger = {
  /** Valid event ids that were accepted and must be in Kafka exactly once. */
  expectedIds: new Set<string>(),
  /** Ids whose user_agent/user_id carried invalid UTF-8: must arrive with U+FFFD. */
  replacedIds: new Set<string>(),
  acceptedTotal: 0,
  bodies: 0,
  statuses: new Map<number, number>(),
  violations: [] as string[],
  unanswered: 0,
  fuzzMs: 0,
};

const jsonTypes = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', ' application/json'];
const ndjsonTypes = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-ndjson; charset=utf-8'];
const badUtf8 = [[0xff], [0xfe, 0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]];

function ws(rng: Rng): string {
  return rng.chance(0.8) ? '' : rng.pick([' ', '\n', '\t', '\r\n', '  ']);
}

/** A batch of valid and invalid elements with exact expectations. */
function mixedBody(rng: Rng, n: number, now: number, ndjson: boolean): Body {
  const count = rng.chance(0.04) ? rng.between(200, eventLimits.maxBatchEvents) : rng.between(1, 60);
  const validShare = rng.pick([0, 0.3, 0.5, 0.8, 1]);
  const texts: string[] = [];
  const validIds: string[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < count; i++) {
    if (rng.next() < validShare) {
      const id = `fz${SEED}-${n}-${i}`;
      texts.push(JSON.stringify(validEvent(rng, id, now)));
      validIds.push(id);
    } else {
      texts.push(invalidElement(rng, `bad-${n}-${i}`, now));
      rejected.push(i);
    }
  }
  let text: string;
  if (ndjson) {
    const lines: string[] = [];
    for (const t of texts) {
      if (rng.chance(0.05)) lines.push(rng.pick(['', '   ', '\t']));
      lines.push(t);
    }
    text = lines.join(rng.chance(0.2) ? '\r\n' : '\n') + (rng.chance(0.5) ? '\n' : '');
  } else {
    text = `${ws(rng)}[${ws(rng)}${texts.join(`${ws(rng)},${ws(rng)}`)}${ws(rng)}]${ws(rng)}`;
  }
  const bytes = Buffer.from(text);
  const contentType = rng.pick(ndjson ? ndjsonTypes : jsonTypes);
  if (bytes.length > eventLimits.maxBatchBytes) return { n, kind: 'mixed-oversize', contentType, bytes, expect: { status: 413 }, validIds: [] };
  const status = validIds.length > 0 ? 202 : 400;
  return { n, kind: ndjson ? 'mixed-ndjson' : 'mixed-json', contentType, bytes, expect: { status, accepted: validIds.length, rejected }, validIds };
}

/** Valid events with raw invalid UTF-8 inside user_agent or user_id: accepted with U+FFFD. */
function utf8Body(rng: Rng, n: number, now: number): Body {
  const parts: Buffer[] = [];
  const validIds: string[] = [];
  const count = rng.between(1, 10);
  parts.push(Buffer.from('['));
  for (let i = 0; i < count; i++) {
    const id = `fz${SEED}-${n}-u${i}`;
    const event = validEvent(rng, id, now);
    const field = rng.chance(0.5) ? 'user_agent' : 'user_id';
    event[field] = `x@@BAD@@y`;
    const [before, after] = JSON.stringify(event).split('@@BAD@@') as [string, string];
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(Buffer.from(before), Buffer.from(rng.pick(badUtf8)), Buffer.from(after));
    validIds.push(id);
  }
  parts.push(Buffer.from(']'));
  for (const id of validIds) ledger.replacedIds.add(id);
  return { n, kind: 'invalid-utf8', contentType: 'application/json', bytes: Buffer.concat(parts), expect: { status: 202, accepted: count, rejected: [] }, validIds };
}

function planBodies(now: number): Body[] {
  const rng = new Rng(SEED);
  const bodies: Body[] = [];
  for (let n = 0; n < BODIES; n++) {
    const r = rng.next();
    if (r < 0.32) bodies.push(mixedBody(rng, n, now, false));
    else if (r < 0.46) bodies.push(mixedBody(rng, n, now, true));
    else if (r < 0.6) {
      // Byte damage to a mixed body: anything may come out; its events carry their own ids.
      const source = mixedBody(rng, n, now, rng.chance(0.3));
      bodies.push({ n, kind: 'mutated', contentType: source.contentType, bytes: mutateBytes(rng, source.bytes), validIds: [] });
    } else if (r < 0.68) {
      const text = rng.chance(0.7) ? `[${Array.from({ length: rng.between(0, 20) }, () => randomJson(rng)).join(',')}]` : randomJson(rng);
      bodies.push({ n, kind: 'random-json', contentType: rng.pick([...jsonTypes, ...ndjsonTypes]), bytes: Buffer.from(text), validIds: [] });
    } else if (r < 0.74) {
      bodies.push({ n, kind: 'random-bytes', contentType: rng.pick([...jsonTypes, ...ndjsonTypes]), bytes: randomBytes(rng, rng.between(0, 4096)), validIds: [] });
    } else if (r < 0.79) {
      const depth = rng.pick([1_000, 10_000, 100_000, 400_000]);
      const kind = rng.pick(['object', 'array'] as const);
      const variants = [
        { text: `[${deepText(depth, kind)}]`, status: 400 }, // parses; not an event
        { text: `[${deepText(depth, kind)}`, status: 400 }, // unterminated
        { text: `[${deepText(depth, kind).slice(0, -1)}]`, status: 400 }, // one bracket short
        { text: deepText(depth, 'array'), status: 400 },
      ];
      const v = rng.pick(variants);
      const bytes = Buffer.from(v.text);
      bodies.push({ n, kind: 'deep', contentType: rng.pick(jsonTypes), bytes, expect: { status: bytes.length > eventLimits.maxBatchBytes ? 413 : v.status }, validIds: [] });
    } else if (r < 0.84) {
      // A huge string as one element next to valid events, or a body over the limit.
      const size = rng.pick([100_000, 500_000, 900_000, 1_100_000, 3_000_000]);
      const id = `fz${SEED}-${n}-h`;
      const text = `[${JSON.stringify('s'.repeat(size))},${JSON.stringify(validEvent(rng, id, now))}]`;
      const bytes = Buffer.from(text);
      const over = bytes.length > eventLimits.maxBatchBytes;
      bodies.push({
        n,
        kind: 'huge-string',
        contentType: 'application/json',
        bytes,
        expect: over ? { status: 413 } : { status: 202, accepted: 1, rejected: [0] },
        validIds: over ? [] : [id],
      });
    } else if (r < 0.89) {
      const source = mixedBody(rng, n, now, false);
      bodies.push({
        n,
        kind: 'wrong-content-type',
        // text/plain is not here: beacons send it, and it is parsed as JSON.
        contentType: rng.pick(['text/html', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonx', '', undefined]),
        bytes: source.bytes,
        expect: { status: 415 },
        validIds: [],
      });
    } else if (r < 0.94) {
      const id = (i: number) => `fz${SEED}-${n}-l${i}`;
      const variants: { text: string; status: number }[] = [
        { text: `[${Array.from({ length: eventLimits.maxBatchEvents + 1 }, (_, i) => JSON.stringify(validEvent(rng, id(i), now))).join(',')}]`, status: 413 },
        { text: '[]', status: 400 },
        { text: '', status: 400 },
        { text: rng.pick(['{}', '"[]"', '1', 'null', 'true', `{"events":[]}`]), status: 400 },
        { text: `\ufeff[${JSON.stringify(validEvent(rng, id(0), now))}]`, status: 400 }, // a BOM is not JSON
      ];
      const v = rng.pick(variants);
      const bytes = Buffer.from(v.text);
      bodies.push({ n, kind: 'limits', contentType: 'application/json', bytes, expect: { status: bytes.length > eventLimits.maxBatchBytes ? 413 : v.status }, validIds: [] });
    } else {
      bodies.push(utf8Body(rng, n, now));
    }
  }
  return bodies;
}

interface Answer {
  accepted?: number;
  rejected?: { index: number; code: string; reason: string }[];
  error?: string;
}

function check(body: Body, res: RawAnswer): void {
  ledger.bodies++;
  ledger.statuses.set(res.status, (ledger.statuses.get(res.status) ?? 0) + 1);
  const label = `body ${body.n} (${body.kind}, ${body.bytes.length} bytes, ${JSON.stringify(body.contentType)})`;
  const fail = (what: string): void => {
    ledger.violations.push(`${label}: ${what}; answer ${res.status} ${res.body.slice(0, 300)}${res.error ? ` (${res.error})` : ''}`);
  };
  if (res.status === 0) {
    ledger.unanswered++;
    return fail('no answer');
  }
  if (!((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500))) return fail('status outside 2xx/4xx');
  let answer: Answer;
  try {
    answer = JSON.parse(res.body) as Answer;
  } catch {
    return fail('answer is not JSON');
  }
  if (res.status === 202) ledger.acceptedTotal += answer.accepted ?? 0;
  if (res.status === 202 && typeof answer.accepted !== 'number') return fail('202 without accepted');
  const want = body.expect;
  if (!want) return;
  if (res.status !== want.status) return fail(`expected ${want.status}`);
  if (want.accepted !== undefined && answer.accepted !== want.accepted) return fail(`expected accepted ${want.accepted}`);
  if (want.rejected !== undefined) {
    const got = (answer.rejected ?? []).map((r) => r.index);
    if (JSON.stringify(got) !== JSON.stringify(want.rejected)) return fail(`expected rejected indexes ${JSON.stringify(want.rejected).slice(0, 200)}`);
  }
  if (res.status === 202) for (const id of body.validIds) ledger.expectedIds.add(id);
}

describe('collector fuzz: a real collector process on real Kafka', () => {
  let scenario: Scenario;
  let collector: ServiceProcess;
  let port: number;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (body: Buffer | string, contentType: string | undefined, extra: Record<string, string> = {}, chunked = false) => {
    const request = { method: 'POST', path: '/v1/events', headers: { ...(contentType === undefined ? {} : { 'content-type': contentType }), ...extra }, body, chunked };
    // Over the limit the collector answers 413 before reading the body and closes: read that answer.
    return Buffer.byteLength(body) > eventLimits.maxBatchBytes && !chunked ? rawSocketRequest(port, request) : rawRequest(port, request, agent);
  };
  const healthy = async () => (await rawRequest(port, { path: '/healthz' })).status === 200 && collector.running;

  beforeAll(async () => {
    scenario = new Scenario('fuzz');
    await scenario.setUp();
    port = await freePort();
    collector = new ServiceProcess(`collector-fuzz-${scenario.id}`, 'services/collector/dist/main.js', { ...scenario.env, SIGFLOW_COLLECTOR_PORT: String(port) }, port);
    await collector.start();
  });
  afterAll(async () => {
    agent.destroy();
    await collector?.stop();
    await scenario?.tearDown();
  });

  it('edge cases: invalid UTF-8, unpaired surrogates, a million levels of nesting, limits, broken HTTP', async () => {
    const now = Date.now();
    const event = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ event_id: id, type: 'page_view', user_id: 'edge-user', ts: now, page_id: 'p1', ...extra });

    // Invalid UTF-8 in user_id and user_agent: decoded with replacement, accepted.
    const utf8Body = Buffer.concat([
      Buffer.from(`[{"event_id":"edge-utf8-1","type":"page_view","ts":${now},"page_id":"p1","user_id":"u`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`"},{"event_id":"edge-utf8-2","type":"page_view","ts":${now},"page_id":"p1","user_id":"v","user_agent":"Mozilla `),
      Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0xaf]),
      Buffer.from(`"}]`),
    ]);
    const replaced = await post(utf8Body, 'application/json');
    expect(replaced.status, replaced.body).toBe(202);
    expect(JSON.parse(replaced.body)).toEqual({ accepted: 2, rejected: [] });
    ledger.acceptedTotal += 2;
    for (const id of ['edge-utf8-1', 'edge-utf8-2']) {
      ledger.expectedIds.add(id);
      ledger.replacedIds.add(id);
    }

    // Unpaired surrogates as JSON escapes: not Unicode, rejected with the field named.
    const lone = await post(`[${event('edge-lone-1', { user_id: 'X' }).replace('"X"', '"\\ud800"')},${event('edge-lone-ok')}]`, 'application/json');
    expect(lone.status, lone.body).toBe(202);
    expect(JSON.parse(lone.body)).toEqual({ accepted: 1, rejected: [{ index: 0, code: 'schema', reason: expect.stringContaining('user_id is not valid Unicode') }] });
    ledger.acceptedTotal += 1;
    ledger.expectedIds.add('edge-lone-ok');

    // A million levels of nesting: a 400 that names the right position (not NaN), no crash.
    const deep = await post('['.repeat(1_000_000), 'application/json');
    expect(deep.status).toBe(400);
    expect(JSON.parse(deep.body).error).toMatch(/at position 1000000$/);
    const deepNd = await post(`${event('edge-deep-nd')}\n${'{"a":'.repeat(200_000)}1`, 'application/x-ndjson');
    expect(deepNd.status).toBe(400);
    expect(JSON.parse(deepNd.body).error).toMatch(/line 2: .* at position \d+$/);
    expect(JSON.parse(deepNd.body).error).not.toContain('NaN');

    // Limits: over 1 MiB streamed without a length; 1,001 events; empty; wrong types.
    const big = await post(Buffer.alloc(eventLimits.maxBatchBytes + 10, 0x20), 'application/json', {}, true);
    expect(big.status).toBe(413);
    const many = await post(`[${Array.from({ length: 1_001 }, (_, i) => event(`edge-many-${i}`)).join(',')}]`, 'application/json');
    expect(many.status).toBe(413);
    expect((await post('', 'application/json')).status).toBe(400);
    expect((await post('[]', 'application/x-ndjson')).status).toBe(400);
    // A beacon's body (text/plain) is a JSON array like application/json.
    const beacon = await post(`[${event('edge-beacon')}]`, 'text/plain;charset=UTF-8');
    expect(beacon.status).toBe(202);
    ledger.acceptedTotal += 1;
    ledger.expectedIds.add('edge-beacon');
    expect((await post(`[${event('edge-ct')}]`, 'text/html')).status).toBe(415);
    expect((await post(`[${event('edge-ct')}]`, undefined)).status).toBe(415);
    expect((await post(`[${event('edge-key')}]`, 'application/json', { 'x-api-key': 'k'.repeat(10_000) })).status).toBe(400);
    expect((await rawRequest(port, { method: 'GET', path: '/v1/events' })).status).toBe(404);
    expect((await rawRequest(port, { method: 'POST', path: '/v1/events/../../etc/passwd', headers: { 'content-type': 'application/json' }, body: '[]' })).status).toBe(404);

    // Broken HTTP: a body shorter than its content-length, a garbage request line, bad header bytes.
    await rawSocket(port, `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"event_id":`, 500);
    expect(await rawSocket(port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawSocket(port, 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Bad: a\u0001b\r\n\r\n[]')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawSocket(port, 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await healthy()).toBe(true);
  });

  it(`${BODIES} seeded bodies: every answer 2xx/4xx, exactly the valid events of mixed batches accepted, still healthy`, async () => {
    const started = Date.now();
    const bodies = planBodies(Date.now());
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        check(body, await post(body.bytes, body.contentType));
        if (body.n % 250 === 249 && !(await healthy())) ledger.violations.push(`collector not healthy after body ${body.n}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    ledger.fuzzMs = Date.now() - started;
    expect(await healthy()).toBe(true);
    expect(ledger.violations.slice(0, 10)).toEqual([]);
    expect(ledger.bodies).toBe(BODIES);
    // The plan exercised what it should.
    for (const status of [202, 400, 413, 415]) expect(ledger.statuses.get(status) ?? 0, `answers with ${status}`).toBeGreaterThan(10);
  });

  it('Kafka holds every accepted event exactly once and nothing else; invalid UTF-8 arrived as U+FFFD', async () => {
    let found = new Map<string, number>();
    let total = 0;
    let replacedOk = 0;
    let row: { lost: number; doubleCounted: number; pass: boolean } = { lost: -1, doubleCounted: -1, pass: false };
    try {
      const offsets = await topicOffsets(scenario.kafka, scenario.topics.events, 'latest');
      total = [...offsets.values()].reduce((sum, high) => sum + high, 0);
      const messages = await readAll(scenario, total);
      found = new Map<string, number>();
      for (const m of messages) {
        const value = JSON.parse(m.value) as { event_id: string; user_id: string; user_agent?: string; received_at?: number };
        found.set(value.event_id, (found.get(value.event_id) ?? 0) + 1);
        if (ledger.replacedIds.has(value.event_id) && `${value.user_id}${value.user_agent ?? ''}`.includes('\ufffd')) replacedOk++;
        if (typeof value.received_at !== 'number') ledger.violations.push(`${value.event_id} without received_at`);
      }
      const lost = [...ledger.expectedIds].filter((id) => !found.has(id)).length;
      const doubled = [...found.values()].filter((n) => n > 1).length + Math.max(0, total - ledger.acceptedTotal);
      row = { lost, doubleCounted: doubled, pass: lost === 0 && doubled === 0 && total === ledger.acceptedTotal && ledger.violations.length === 0 };
      expect(total, 'messages in Kafka = sum of accepted').toBe(ledger.acceptedTotal);
      expect(lost, 'accepted valid events missing from Kafka').toBe(0);
      expect(doubled, 'events in Kafka twice').toBe(0);
      expect(replacedOk, 'events with invalid UTF-8 carry U+FFFD').toBe([...ledger.replacedIds].filter((id) => found.has(id)).length);
      expect(ledger.expectedIds.size).toBeGreaterThan(1_000);
    } finally {
      recordScenario({
        suite: 'input',
        scenario: `collector-fuzz (${ledger.bodies} bodies, seed ${SEED})`,
        eventsSent: ledger.expectedIds.size,
        eventsInViews: [...ledger.expectedIds].filter((id) => found.has(id)).length,
        lost: Math.max(0, row.lost),
        doubleCounted: Math.max(0, row.doubleCounted),
        maxRecoveryMs: null,
        requestsFailed: ledger.unanswered + [...ledger.statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0),
        result: row.pass ? 'pass' : 'fail',
        details: {
          statuses: Object.fromEntries([...ledger.statuses].sort((a, b) => a[0] - b[0])),
          kafkaMessages: total,
          acceptedTotal: ledger.acceptedTotal,
          invalidUtf8Accepted: replacedOk,
          fuzzMs: ledger.fuzzMs,
          violations: ledger.violations.slice(0, 5),
        },
      });
    }
  });
});

/** Every message of the scenario's events topic (`count` of them). */
function readAll(scenario: Scenario, count: number): Promise<{ value: string }[]> {
  return readTopicMessages(scenario.kafka, scenario.topics.events, count, 60_000);
}
