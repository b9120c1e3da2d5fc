// `npm test` of the integration suites: two lanes at once, each running its files one at a time.
// Lane "faults" holds the fault and load scenarios (they stop, kill and load servers of their
// own, and the load test measures a rate) and the deployment suites (brokers of their own,
// Kafka unreachable, bare starts); lane "flows" holds every other suite, the hostile-input ones
// included. Most of a suite's time is spent waiting for services, so two lanes on 2 cores take
// about as long as the longer one: the split keeps them within a minute of each other (on
// 2026-11-27 here, with the deployment suites in the flows lane: 285 s and 375 s, of which the
// deployment suites took 46 s). Extra arguments (file filters) run one plain vitest process instead.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
// The deployment suites run in the fault lane, but for one that needs no server of its own: in
// the flows lane it keeps the lanes within a minute of each other (on 2026-11-28 with every
// deployment suite in the fault lane: 647-666 s against 547-555 s, and `npm test` took 11 min 37 s
// and 12 min 11 s from fresh clones on a slow host).
const flowsLaneDeploy = new Set(['deploy/adopted-partitions.test.ts']);
const deployFiles = fs
  .readdirSync(path.join(here, 'deploy'))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `deploy/${f}`)
  .filter((f) => !flowsLaneDeploy.has(f));
const faultFiles = ['reliability/faults/**', 'reliability/load/**', ...deployFiles];

function vitest(args, report) {
  const reportArgs = process.env.SIGFLOW_TEST_REPORT ? [`--outputFile.json=${path.join(process.env.SIGFLOW_TEST_REPORT, `_sigflow_integration-tests-${report}.json`)}`] : [];
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', ...args, ...reportArgs], { cwd: here, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const extra = process.argv.slice(2);
const codes = extra.length > 0
  ? [await vitest(extra, 'filtered')]
  : await Promise.all([vitest(faultFiles.map((g) => g.replace('/**', '/')), 'faults'), vitest(faultFiles.flatMap((g) => ['--exclude', g]), 'flows')]);
process.exit(codes.find((c) => c !== 0) ?? 0);
