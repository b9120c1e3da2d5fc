// An open-loop load at a steady rate: request i is due at start + i / rate whatever the answers
// do, and its latency counts from when it was DUE (a stalled server is charged for the requests
// it held up: no coordinated omission). autocannon's `overallRate` instead lets every connection
// send its quota for the second back to back when the second starts, so its latency at a "rate"
// is the latency of a one-second burst. Requests go over `connections` keep-alive sockets, one
// in flight on each (`raw-http.mjs`).
import { clientProcess, connectPool, countAnswer, latencyPercentiles, preparedRequests, runAsClientProcess } from './raw-http.mjs';

/**
 * Sends request `i` (`request(i)`: its path, and a body to POST or none for a GET) at `rate`
 * requests/s for `warmupSeconds` (not counted: connections, JIT and the server's first requests
 * on each) and then `seconds`. Resolves with the counted requests and their latency percentiles in ms.
 */
export async function openLoop(url, request, { rate, seconds, headers = {}, connections = 32, warmupSeconds = 0 }) {
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
      countAnswer(counts, status);
    }
    if (++answered === total) finish();
    const next = waiting.shift();
    if (next && !conn.busy) dispatch(conn, next[0], next[1]);
    else if (next) waiting.unshift(next);
  };
  const pool = await connectPool(url, connections, onAnswer);
  const dispatch = (conn, due, bytes) => {
    inFlight.set(conn, due);
    conn.send(bytes);
  };
  const bytesOf = preparedRequests(new URL(url).hostname, headers);
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
  const measuredSeconds = (performance.now() - measuredFrom) / 1000;
  const { p50, p99, max } = latencyPercentiles(latencies);
  return { requests: total - warmup, warmupRequests: warmup, ...counts, seconds: measuredSeconds, latencyMs: { p50, p99, max } };
}

/** `openLoop` in a process of its own ({@link clientProcess}). */
export const openLoopProcess = (url, options) => clientProcess('open-loop client', import.meta.url, url, options);

await runAsClientProcess(import.meta.url, openLoop);
