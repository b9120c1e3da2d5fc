// The benches' own HTTP/1.1 load client: requests written as prepared bytes over keep-alive
// sockets, answers read by Content-Length and never parsed or copied (only their status line is).
// It takes less of the cores it shares with the server it measures than a general client: on
// `bench:api`'s signals (16 KB answers) autocannon took 27.8 µs of CPU a request and this client
// 16.0, and the rate served went from 17,972 to 22,448 requests/s (one run each, back to back).
import net from 'node:net';
import { jsonFromChild } from './child-json.mjs';

/** One keep-alive connection: at most one request in flight. `onAnswer(connection, status)`; status 0 = broken. */
export class Connection {
  constructor(host, port, onAnswer) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk) => this.read(chunk));
    // A broken connection answers its request as an error and takes no more.
    this.socket.on('error', () => {
      this.busy = true;
      onAnswer(this, 0);
    });
    this.onAnswer = onAnswer;
    /** Bytes of an answer's head read so far (empty between answers). */
    this.head = EMPTY;
    /** Body bytes of the current answer still to come; -1 while its head is being read. */
    this.remaining = -1;
    this.status = 0;
    this.busy = false;
    /** Bytes read, heads included. */
    this.bytesRead = 0;
  }

  /** Resolves once the socket is connected. */
  connected() {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  send(bytes) {
    this.busy = true;
    this.socket.write(bytes);
  }

  read(chunk) {
    this.bytesRead += chunk.length;
    if (this.remaining >= 0) return this.skipBody(chunk);
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    const headEnd = this.head.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const text = this.head.toString('latin1', 0, headEnd);
    const rest = this.head.subarray(headEnd + 4);
    this.head = EMPTY;
    this.status = Number(text.slice(9, 12));
    this.remaining = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
    this.skipBody(rest);
  }

  /** Counts body bytes off; the answer is complete when none remain (a request has one answer in flight). */
  skipBody(chunk) {
    this.remaining -= chunk.length;
    if (this.remaining > 0) return;
    this.remaining = -1;
    this.busy = false;
    this.onAnswer(this, this.status);
  }
}

const EMPTY = Buffer.alloc(0);

/** The bytes of one HTTP/1.1 request: a GET, or a POST of `body`. */
export function requestBytes(host, { path, body }, headers) {
  const lines = [`${body === undefined ? 'GET' : 'POST'} ${path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

/** Request bytes prepared once per distinct request: the client allocates next to nothing while it runs. */
export function preparedRequests(host, headers) {
  const prepared = new Map();
  return (r) => {
    const id = `${r.path}\n${r.body ?? ''}`;
    let bytes = prepared.get(id);
    if (bytes === undefined) prepared.set(id, (bytes = requestBytes(host, r, headers)));
    return bytes;
  };
}

/** `connections` connected sockets to `url`'s host and port. */
export async function connectPool(url, connections, onAnswer) {
  const { hostname, port } = new URL(url);
  const pool = Array.from({ length: connections }, () => new Connection(hostname, Number(port), onAnswer));
  await Promise.all(pool.map((c) => c.connected()));
  return pool;
}

/** p50, p90, p99 and max of latencies in ms (sorted in place), to 0.1 ms. */
export function latencyPercentiles(latencies) {
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) / 10;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

/** Counts of answers by kind. */
export function countAnswer(counts, status) {
  if (status === 0) counts.errors++;
  else if (status >= 200 && status < 300) counts.ok++;
  else counts.non2xx++;
}

/**
 * A load client (`moduleUrl`: `open-loop.mjs`, `closed-loop.mjs`) in a process of its own, over
 * requests for paths chosen at random from `paths`: a client with a fresh heap, so its own garbage
 * collection (the harness's earlier runs leave a large heap behind) does not stall its load and
 * get charged to the server, and with its CPU counted apart (`clientCpuSeconds`).
 */
export function clientProcess(what, moduleUrl, url, { paths, ...options }) {
  return jsonFromChild(what, [new URL(moduleUrl).pathname], { input: JSON.stringify({ url, paths, options }) });
}

/**
 * The process side of {@link clientProcess}, when `moduleUrl` is the process's entry: reads
 * `{url, paths, options}` from stdin, runs `loop(url, request, options)` and prints its result
 * with the process's CPU (warm-up included: the caller weighs it against every answer).
 */
export async function runAsClientProcess(moduleUrl, loop) {
  if (process.argv[1] !== new URL(moduleUrl).pathname) return;
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { url, paths, options } = JSON.parse(input);
  const result = await loop(url, () => ({ path: paths[Math.floor(Math.random() * paths.length)] }), options);
  const { user, system } = process.cpuUsage();
  process.stdout.write(JSON.stringify({ ...result, clientCpuSeconds: (user + system) / 1e6 }));
  process.exit(0);
}
