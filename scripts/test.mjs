// `npm test`: the same set-up as `npm start` (deps, build, Redis, Kafka; S3Proxy's jar), then the type check
// and lint of the whole repository (one `tsc`, one `eslint`), every workspace's tests through
// turbo (the integration suites in test/ included), and one closing line with the totals of
// all vitest runs.
import './runtime.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { ensureChromium } from '../infra/lib/chromium.mjs';
import { fetchS3ProxyJar } from '../infra/s3proxy/s3proxy.mjs';
import { root, run, setUp } from './lib.mjs';

// The browser tests' Chromium installs while the project builds (apt is network and disk).
const chromium = ensureChromium().then(
  () => null,
  (err) => err,
);
await setUp();
// The S3 suites (packages/archive, jobs/batch, the two-host fault test) each start an S3Proxy of
// their own from this jar: fetched once here, before turbo runs workspaces side by side.
fetchS3ProxyJar();
const chromiumError = await chromium;
// Not fatal here: the browser suite reports the failure as its own, the others still run.
if (chromiumError) console.error(chromiumError.message);

const reports = path.join(root, 'var/test-reports', String(Date.now()));
fs.mkdirSync(reports, { recursive: true });
const env = {
  ...process.env,
  SIGFLOW_TEST_REPORT: reports,
  SIGFLOW_LOG_LEVEL: process.env.SIGFLOW_LOG_LEVEL ?? 'warn',
  // Node's on-disk cache of compiled modules: the suites start some 80 service processes and
  // 25 test workers, and a service's imports cost 1.4-2.4 s of CPU on a slow host, 12-20 % less
  // from the cache (README, "Tests").
  NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(root, 'var/compile-cache'),
};
const extra = process.argv.slice(2);
// --continue: one failing workspace must not hide the results of the others.
// --only: setUp built everything already; turbo runs the tests, not the builds they depend on.
const turbo = (args) => run('npx', ['turbo', 'run', ...args, '--only', '--continue', '--output-logs=new-only'], { env });
/** The type check and lint of every workspace, the tests and the root's scripts at once. */
async function checks() {
  const typecheck = await run('npm', ['run', '--silent', 'typecheck'], { env });
  const lint = await run('npm', ['run', '--silent', 'lint'], { env });
  return typecheck || lint;
}
const INTEGRATION = '@sigflow/integration-tests';
let code;
if (extra.length > 0) {
  code = (await checks()) || (await turbo(['test', '--concurrency=2', ...extra]));
} else {
  // The integration suites (two lanes of one file at a time: test/run-lanes.mjs), every other
  // workspace's tests (one at a time) and the repository's type check and lint all start at
  // once: on 2 cores the run is bound by CPU with gaps where suites wait for services, and the
  // check before the unit tests had made theirs the longest lane (a fresh clone on 2026-11-24:
  // the integration suites 9 min 14 s; the check, then 9 min 11 s of unit tests).
  //
  // The workspaces' own tests run in ONE vitest process (vitest.unit.config.ts), not one per
  // workspace through turbo: 21 start-ups of npm and vitest, each loading and transforming the
  // shared packages again, had made theirs the longest lane (a fresh clone on 2026-11-29 here:
  // 735 s, 3-7 s between two workspaces and up to 21 s before a workspace's first test).
  const codes = await Promise.all([
    turbo(['test', `--filter=${INTEGRATION}`]),
    checks(),
    run('npx', ['vitest', 'run', '-c', 'vitest.unit.config.ts'], { env }),
  ]);
  code = codes.find((c) => c !== 0) ?? 0;
}

let passed = 0;
let skipped = 0;
/** Each failure as one line: where, which test, and the first line of why. */
const failures = [];
const firstLine = (text) => String(text ?? '').split('\n').find((line) => line.trim() !== '')?.trim().slice(0, 300) ?? '';
for (const file of fs.readdirSync(reports)) {
  const report = JSON.parse(fs.readFileSync(path.join(reports, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  for (const result of report.testResults ?? []) {
    const where = path.relative(root, result.name ?? '');
    const failedTests = (result.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const test of failedTests) failures.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    // A file whose set-up failed has no failed test of its own: count it as one failure.
    if (result.status === 'failed' && failedTests.length === 0) failures.push(`${where} (set-up): ${firstLine(result.message)}`);
  }
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
// Last, so that the tail of a long log (all a CI page may keep) names what failed.
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `- ${f}`).join('\n')}`);
console.log(`\ntests: ${passed} passed, ${failures.length} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code !== 0 ? code : failures.length > 0 ? 1 : 0);
