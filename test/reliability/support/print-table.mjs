#!/usr/bin/env node
// Prints the reliability table of a run (var/reliability/<run>.jsonl, rows appended by
// `recordScenario`) and keeps it in bench/results/reliability.json.
//   node test/reliability/support/print-table.mjs [run] [--merge]     (default: the newest run)
// --merge keeps the rows of the kept table that this run has no row for (`npm run test:cluster`
// adds its scenarios to the table of the other suites instead of replacing it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');
const dir = path.join(root, 'var/reliability');
const out = path.join(root, 'bench/results/reliability.json');

function newestRun() {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => ({ f, at: fs.statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  return files[0]?.f.replace(/\.jsonl$/, '');
}

const args = process.argv.slice(2);
const merge = args.includes('--merge');
const run = args.find((a) => !a.startsWith('--')) ?? process.env.SIGFLOW_RELIABILITY_RUN ?? newestRun();
const file = run ? path.join(dir, `${run}.jsonl`) : undefined;
if (!file || !fs.existsSync(file)) {
  console.error(`no reliability rows${run ? ` for run ${run} (${file})` : ` in ${dir}`}`);
  process.exit(1);
}

// A scenario recorded twice in one run (a retried test) keeps its last row.
const byName = new Map();
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  try {
    const row = JSON.parse(line);
    byName.set(`${row.suite}/${row.scenario}`, row);
  } catch {
    console.error(`skipping a malformed line of ${file}`);
  }
}
const rows = [...byName.values()];
/** Rows of the kept table whose scenario this run does not have (with --merge). */
function keptRows() {
  try {
    const kept = JSON.parse(fs.readFileSync(out, 'utf8')).rows ?? [];
    return kept.filter((r) => !byName.has(`${r.suite}/${r.scenario}`));
  } catch {
    return [];
  }
}
const others = merge ? keptRows() : [];

const int = (n) => (typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const ms = (n) => (typeof n === 'number' && Number.isFinite(n) ? `${(n / 1000).toFixed(1)} s` : '-');
const columns = [
  ['scenario', (r) => `${r.suite}/${r.scenario}`],
  ['events sent', (r) => int(r.eventsSent)],
  ['events in views', (r) => int(r.eventsInViews)],
  ['lost', (r) => int(r.lost)],
  ['double-counted', (r) => int(r.doubleCounted)],
  ['max recovery', (r) => ms(r.maxRecoveryMs)],
  ['requests failed during fault', (r) => int(r.requestsFailed)],
  ['result', (r) => String(r.result ?? '?').toUpperCase()],
];
const cells = rows.map((r) => columns.map(([, f]) => f(r)));
const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (values) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ');
console.log(`\nreliability (run ${run}, ${rows.length} scenarios)`);
console.log(line(columns.map(([h]) => h)));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const c of cells) console.log(line(c));
const failed = rows.filter((r) => r.result !== 'pass').length;
console.log(`\n${rows.length - failed} passed, ${failed} failed`);

fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  `${JSON.stringify(
    {
      bench: 'reliability',
      at: new Date().toISOString(),
      run,
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
      summary: { scenarios: rows.length, passed: rows.length - failed, failed },
      rows: [...others, ...rows],
    },
    null,
    2,
  )}\n`,
);
console.log(`table kept in ${path.relative(root, out)}`);
