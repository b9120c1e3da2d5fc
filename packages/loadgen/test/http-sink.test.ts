import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpSink, retryAfterMs } from '../src/sinks/http-sink.js';
import { HOUR, collect } from './helpers.js';

interface Seen {
  events: unknown[];
  apiKey: string | undefined;
  contentType: string | undefined;
}

let server: Server | undefined;

/** A fake collector: `answer` decides each response from the request number and body. */
async function collector(answer: (n: number, body: unknown[], res: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as unknown[];
      seen.push({ events: body, apiKey: req.headers['x-api-key'] as string | undefined, contentType: req.headers['content-type'] });
      answer(seen.length, body, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('HttpSink', () => {
  const events = collect({ seed: 61, events: 1_200, span: HOUR });

  it('posts JSON arrays of 500 with the API key, in order, and counts accepted and rejected', async () => {
    const { url, seen } = await collector((n, body, res) =>
      reply(res, 202, { accepted: body.length - (n === 2 ? 2 : 0), rejected: n === 2 ? [{ index: 3, reason: 'ts too old' }, { index: 9, reason: 'ts too old' }] : [] }),
    );
    const sink = new HttpSink({ url, apiKey: 'secret' });
    await sink.write(events.slice(0, 700));
    await sink.write(events.slice(700));
    await sink.close();
    expect(seen.map((s) => s.events.length)).toEqual([500, 500, 200]);
    expect(seen.every((s) => s.apiKey === 'secret' && s.contentType === 'application/json')).toBe(true);
    expect(seen.flatMap((s) => s.events)).toEqual(events.map((e) => e.event));
    expect(sink.stats).toMatchObject({ sent: 1_198, rejected: 2, rejectReasons: { 'ts too old': 2 }, errors: 0, failed: 0 });
  });

  it('retries 503 after Retry-After and counts the errors', async () => {
    const { url, seen } = await collector((n, body, res) =>
      n <= 2 ? reply(res, 503, { error: 'Kafka is unavailable', statusCode: 503 }, { 'retry-after': '0' }) : reply(res, 202, { accepted: body.length, rejected: [] }),
    );
    const sink = new HttpSink({ url });
    await sink.write(events.slice(0, 300));
    await sink.close();
    expect(seen).toHaveLength(3);
    expect(sink.stats).toMatchObject({ sent: 300, errors: 2, retries: 2, failed: 0 });
    expect(sink.stats.lastError).toMatch(/503/);
  });

  it('counts a batch the collector rejects entirely (400 with reasons) and does not retry a 401', async () => {
    const { url, seen } = await collector((n, body, res) =>
      n === 1
        ? reply(res, 400, { accepted: 0, rejected: body.map((_, index) => ({ index, reason: 'schema' })) })
        : reply(res, 401, { error: 'missing or unknown API key', statusCode: 401 }),
    );
    const sink = new HttpSink({ url, batchSize: 100 });
    await sink.write(events.slice(0, 200));
    await sink.close();
    expect(seen).toHaveLength(2);
    expect(sink.stats.rejected).toBe(200);
    expect(sink.stats.rejectReasons).toEqual({ schema: 100, 'HTTP 401: missing or unknown API key': 100 });
    expect(sink.stats.sent).toBe(0);
  });

  it('retries connection errors, then gives up and counts the events as failed', async () => {
    const sink = new HttpSink({ url: 'http://127.0.0.1:9', maxRetries: 2 });
    await sink.write(events.slice(0, 10));
    await sink.close();
    expect(sink.stats).toMatchObject({ sent: 0, failed: 10, errors: 3, retries: 2 });
  });

  it('a closing sink gives a collector that is gone closeGraceMs, then counts what is left as failed', async () => {
    // 30 retries with backoff would take minutes; a stopping generator must not wait them out.
    const sink = new HttpSink({ url: 'http://127.0.0.1:9', closeGraceMs: 300 });
    await sink.write(events.slice(0, 10));
    const started = performance.now();
    await sink.close();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(sink.stats).toMatchObject({ sent: 0, failed: 10 });
    expect(sink.stats.retries).toBeLessThan(30);
  });

  it('a closing sink still delivers what the collector takes within the grace', async () => {
    const { url, seen } = await collector((n, body, res) =>
      n <= 2 ? reply(res, 503, { error: 'Kafka is unavailable', statusCode: 503 }, { 'retry-after': '0' }) : reply(res, 202, { accepted: body.length, rejected: [] }),
    );
    const sink = new HttpSink({ url, closeGraceMs: 2_000 });
    await sink.write(events.slice(0, 10));
    await sink.close();
    expect(seen).toHaveLength(3);
    expect(sink.stats).toMatchObject({ sent: 10, failed: 0 });
  });

  it('sends a partial batch after the linger time, without a flush', async () => {
    const { url, seen } = await collector((_n, body, res) => reply(res, 202, { accepted: body.length, rejected: [] }));
    const sink = new HttpSink({ url, lingerMs: 20 });
    await sink.write(events.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.map((s) => s.events.length)).toEqual([10]);
    expect(sink.stats.sent).toBe(10);
    await sink.close();
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
  });
});
