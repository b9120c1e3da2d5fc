// A closed-loop load: `connections` keep-alive sockets, each sending its next request as soon as
// its answer is in (the server's saturated rate), latency from each request's write to its
// answer. It measures what autocannon's closed loop measures with the benches' raw client
// (`raw-http.mjs`), in a process of its own so its CPU is counted apart.
import { clientProcess, connectPool, countAnswer, latencyPercentiles, preparedRequests, runAsClientProcess } from './raw-http.mjs';

/**
 * Keeps one request (`request()`: its path, and a body to POST or none for a GET) in flight on
 * each of `connections` sockets for `warmupSeconds` (not counted) and then `seconds`. Resolves
 * with the counted answers, their rate, the bytes read a second and latency percentiles in ms.
 */
export async function closedLoop(url, request, { seconds, headers = {}, connections = 32, warmupSeconds = 0 }) {
  const bytesOf = preparedRequests(new URL(url).hostname, headers);
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  const latencies = [];
  const sentAt = new Map();
  let phase = 'warmup';
  let uncountedRequests = 0;
  let open = connections;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const send = (conn) => {
    sentAt.set(conn, performance.now());
    conn.send(bytesOf(request()));
  };
  const onAnswer = (conn, status) => {
    const sent = sentAt.get(conn);
    if (sent === undefined) return;
    sentAt.delete(conn);
    if (phase === 'measured') {
      latencies.push(performance.now() - sent);
      countAnswer(counts, status);
    } else uncountedRequests++;
    if (status !== 0 && phase !== 'done') return send(conn);
    if (--open === 0) finish();
  };
  const pool = await connectPool(url, connections, onAnswer);
  pool.forEach(send);
  await new Promise((resolve) => setTimeout(resolve, warmupSeconds * 1000));
  // The loop never pauses: answers in the measured time count (whenever sent), the others not.
  const bytesRead = () => pool.reduce((sum, c) => sum + c.bytesRead, 0);
  phase = 'measured';
  const measuredFrom = performance.now();
  const bytesBefore = bytesRead();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  phase = 'done';
  const measuredSeconds = (performance.now() - measuredFrom) / 1000;
  const measuredBytes = bytesRead() - bytesBefore;
  // Answers still missing 10 s after the end count as errors.
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  counts.errors += sentAt.size;
  for (const c of pool) c.socket.destroy();
  const answered = counts.ok + counts.non2xx;
  return {
    requests: answered + counts.errors,
    uncountedRequests,
    ...counts,
    seconds: measuredSeconds,
    requestsPerSecond: Math.round(counts.ok / measuredSeconds),
    bytesPerSecond: Math.round(measuredBytes / measuredSeconds),
    latencyMs: latencyPercentiles(latencies),
  };
}

/** `closedLoop` in a process of its own ({@link clientProcess}). */
export const closedLoopProcess = (url, options) => clientProcess('closed-loop client', import.meta.url, url, options);

await runAsClientProcess(import.meta.url, closedLoop);
