// `npm test`: the same set-up as `npm start` (deps, build, Redis, Kafka), then through turbo
// every workspace's typecheck, lint and tests (the integration suites in test/ included),
// and one closing line with the totals of all vitest runs.
import fs from 'node:fs';
import path from 'node:path';
import { ensureChromium } from '../infra/lib/chromium.mjs';
import { root, run, setUp } from './lib.mjs';

// The browser tests' Chromium installs while the project builds (apt is network and disk).
const chromium = ensureChromium().then(
  () => null,
  (err) => err,
);
await setUp();
const chromiumError = await chromium;
// Not fatal here: the browser suite reports the failure as its own, the others still run.
if (chromiumError) console.error(chromiumError.message);

const reports = path.join(root, 'var/test-reports', String(Date.now()));
fs.mkdirSync(reports, { recursive: true });
const env = {
  ...process.env,
  SIGFLOW_TEST_REPORT: reports,
  SIGFLOW_LOG_LEVEL: process.env.SIGFLOW_LOG_LEVEL ?? 'warn',
};
const extra = process.argv.slice(2);
// --continue: one failing workspace must not hide the results of the others.
const turbo = (args) => run('npx', ['turbo', 'run', ...args, '--continue', '--output-logs=new-only'], { env });
const INTEGRATION = '@sigflow/integration-tests';
let code;
if (extra.length > 0) {
  code = (await turbo(['typecheck', 'lint', 'test', '--concurrency=2', ...extra])) || (await run('npm', ['run', '--silent', 'lint:root'], { env }));
} else {
  // The integration suites (one file at a time, most of the run) start at once, beside one
  // lane with every other workspace's checks and tests: the run takes about as long as the
  // longer lane. The suites of BALANCED (Kafka-bound, about a minute each) run in the
  // integration lane once it is done: on 2 cores the other lane was 3 minutes longer.
  const BALANCED = ['@sigflow/collector', '@sigflow/kafka'];
  const codes = await Promise.all([
    (async () => {
      const integration = await turbo(['test', `--filter=${INTEGRATION}`]);
      const balanced = await turbo(['test', ...BALANCED.map((w) => `--filter=${w}`), '--concurrency=1']);
      return integration || balanced;
    })(),
    (async () => {
      const others = await turbo(['typecheck', 'lint', 'test', `--filter=!${INTEGRATION}`, ...BALANCED.map((w) => `--filter=!${w}`), '--concurrency=1']);
      const checks = await turbo(['typecheck', 'lint', ...[INTEGRATION, ...BALANCED].map((w) => `--filter=${w}`), '--concurrency=1']);
      // The root's own scripts and infra (every workspace lints its own files).
      const root = await run('npm', ['run', '--silent', 'lint:root'], { env });
      return others || checks || root;
    })(),
  ]);
  code = codes.find((c) => c !== 0) ?? 0;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of fs.readdirSync(reports)) {
  const report = JSON.parse(fs.readFileSync(path.join(reports, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A file whose set-up failed has no failed test of its own: count it as one failure.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed')) failed += 1;
  }
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code !== 0 ? code : failed > 0 ? 1 : 0);
