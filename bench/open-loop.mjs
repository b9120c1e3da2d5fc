// An open-loop load at a steady rate: request i is due at start + i / rate whatever the answers
// do, and its latency counts from when it was DUE (a stalled server is charged for the requests
// it held up: no coordinated omission). autocannon's `overallRate` instead lets every connection
// send its quota for the second back to back when the second starts, so its latency at a "rate"
// is the latency of a one-second burst. Requests go over `connections` keep-alive sockets, one
// in flight on each, written as prepared bytes and read by Content-Length: the client costs a
// few microseconds a request, so it does not take the cores from the server it measures.
import net from 'node:net';
import { jsonFromChild } from './child-json.mjs';

/** One keep-alive connection: at most one request in flight. */
class Connection {
  constructor(host, port, onAnswer) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk) => this.read(chunk));
    // A broken connection answers its request as an error and takes no more.
    this.socket.on('error', () => {
      this.busy = true;
      onAnswer(this, 0);
    });
    this.onAnswer = onAnswer;
    this.buffer = Buffer.alloc(0);
    this.busy = false;
  }

  send(bytes) {
    this.busy = true;
    this.socket.write(bytes);
  }

  read(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < headEnd + 4 + length) return;
    this.buffer = this.buffer.subarray(headEnd + 4 + length);
    this.busy = false;
    this.onAnswer(this, Number(head.slice(9, 12)));
  }
}

/** The bytes of one HTTP/1.1 request. */
function requestBytes(host, { path, body }, headers) {
  const lines = [`${body === undefined ? 'GET' : 'POST'} ${path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

/**
 * Sends request `i` (`request(i)`: its path, and a body to POST or none for a GET) at `rate`
 * requests/s for `warmupSeconds` (not counted: connections, JIT and the server's first requests
 * on each) and then `seconds`. Resolves with the counted requests and their latency percentiles in ms.
 */
export async function openLoop(url, request, { rate, seconds, headers = {}, connections = 32, warmupSeconds = 0 }) {
  const { hostname, port } = new URL(url);
  const warmup = Math.round(rate * warmupSeconds);
  const total = warmup + Math.round(rate * seconds);
  const latencies = [];
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  const waiting = []; // [due, bytes] of requests due while every connection was busy
  const inFlight = new Map(); // connection -> due
  let answered = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const onAnswer = (conn, status) => {
    const due = inFlight.get(conn);
    inFlight.delete(conn);
    if (due === undefined) return;
    if (due >= measuredFrom) {
      latencies.push(performance.now() - due);
      if (status === 0) counts.errors++;
      else if (status >= 200 && status < 300) counts.ok++;
      else counts.non2xx++;
    }
    if (++answered === total) finish();
    const next = waiting.shift();
    if (next && !conn.busy) dispatch(conn, next[0], next[1]);
    else if (next) waiting.unshift(next);
  };
  const pool = Array.from({ length: connections }, () => new Connection(hostname, Number(port), onAnswer));
  await Promise.all(pool.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
  const dispatch = (conn, due, bytes) => {
    inFlight.set(conn, due);
    conn.send(bytes);
  };
  // Prepared once per distinct request: the client allocates next to nothing while it runs.
  const prepared = new Map();
  const bytesOf = (r) => {
    const id = `${r.path}\n${r.body ?? ''}`;
    let bytes = prepared.get(id);
    if (bytes === undefined) prepared.set(id, (bytes = requestBytes(hostname, r, headers)));
    return bytes;
  };
  const started = performance.now();
  const interval = 1000 / rate;
  const measuredFrom = started + warmup * interval;
  for (let issued = 0; issued < total; ) {
    const now = performance.now();
    for (; issued < total && started + issued * interval <= now; issued++) {
      const due = started + issued * interval;
      const bytes = bytesOf(request(issued));
      const idle = pool.find((c) => !c.busy);
      if (idle) dispatch(idle, due, bytes);
      else waiting.push([due, bytes]);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + issued * interval - performance.now())));
  }
  // Answers still missing 30 s after the last request was due count as errors.
  const deadline = new Promise((resolve) => setTimeout(resolve, 30_000));
  await Promise.race([finished, deadline]);
  counts.errors += total - answered;
  for (const c of pool) c.socket.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) / 10;
  const measuredSeconds = (performance.now() - measuredFrom) / 1000;
  return { requests: total - warmup, warmupRequests: warmup, ...counts, seconds: measuredSeconds, latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) } };
}

/**
 * `openLoop` in a process of its own, over requests for paths chosen at random from `paths`: a
 * client with a fresh heap, so its own garbage collection (the harness's earlier runs leave a
 * large heap behind) does not stall the schedule and get charged to the server.
 */
export function openLoopProcess(url, { paths, ...options }) {
  return jsonFromChild('open-loop client', [new URL(import.meta.url).pathname], { input: JSON.stringify({ url, paths, options }) });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { url, paths, options } = JSON.parse(input);
  const result = await openLoop(url, () => ({ path: paths[Math.floor(Math.random() * paths.length)] }), options);
  const { user, system } = process.cpuUsage();
  // The client's CPU, warm-up included (the caller weighs it against the API's and Redis's).
  process.stdout.write(JSON.stringify({ ...result, clientCpuSeconds: (user + system) / 1e6 }));
  process.exit(0);
}
