// An open-loop load at a steady rate: one request every 1/rate s, on its own schedule whatever
// the answers do, each latency counted from the moment the request was DUE (so a stalled server
// is charged for the requests it held up: no coordinated omission). autocannon's `overallRate`
// instead lets every connection send its quota for the second back to back when the second
// starts, so its latency at a "rate" is the latency of a one-second burst.
import http from 'node:http';

/**
 * Sends request `i` (`request(i)`: its path, and a body to POST or none for a GET) at `rate`
 * requests/s for `seconds`. Resolves with counts and latency percentiles in ms.
 */
export async function openLoop(url, request, { rate, seconds, headers = {}, maxSockets = 64 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const { hostname, port } = new URL(url);
  const latencies = [];
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const started = performance.now();
  let issued = 0;
  const pending = new Set();
  const send = (due, { path, body }) => {
    const done = new Promise((resolve) => {
      const options = { hostname, port, path, method: body === undefined ? 'GET' : 'POST', agent, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } };
      const req = http.request(options, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          if (res.statusCode >= 200 && res.statusCode < 300) counts.ok++;
          else counts.non2xx++;
          resolve();
        });
      });
      req.on('error', () => {
        counts.errors++;
        resolve();
      });
      req.end(body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  while (issued < total) {
    const now = performance.now();
    while (issued < total && started + issued * interval <= now) {
      send(started + issued * interval, request(issued));
      issued++;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + issued * interval - performance.now())));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) / 10;
  return { requests: total, ...counts, seconds: (performance.now() - started) / 1000, latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) } };
}
