// `npm run test:reliability`: the set-up of `npm test` (deps, build, Redis, Kafka), then only the
// suites in test/reliability (faults, input, load, network), then the table of the run (also kept in
// bench/results/reliability.json). Extra arguments go to vitest (e.g. `-- reliability/faults`).
import './runtime.mjs';
import path from 'node:path';
import { root, run, setUp } from './lib.mjs';

await setUp();

const runId = new Date().toISOString().replace(/[:.]/g, '-');
const env = {
  ...process.env,
  SIGFLOW_RELIABILITY_RUN: runId,
  // The long rows (network faults, the upgrade, the load run, the two-host S3 row) run here, not in npm test.
  SIGFLOW_RELIABILITY_FULL: '1',
  SIGFLOW_LOG_LEVEL: process.env.SIGFLOW_LOG_LEVEL ?? 'warn',
};
const filters = process.argv.slice(2);
const code = await run('npx', ['vitest', 'run', ...(filters.length > 0 ? filters : ['reliability/'])], {
  cwd: path.join(root, 'test'),
  env,
});
// A run of some suites (filters) keeps the kept table's other rows.
const printed = await run('node', [path.join(root, 'test/reliability/support/print-table.mjs'), runId, ...(filters.length > 0 ? ['--merge'] : [])], { env });
process.exit(code !== 0 ? code : printed);
