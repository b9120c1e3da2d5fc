// `npm run bench [name...]`: runs the named benchmarks (all when none is named), one at a
// time (2 cores: never two heavy runs at once). Each prints its figures and writes
// bench/results/<name>.json.
import '../scripts/runtime.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { setUp } from '../scripts/lib.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const available = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .map((f) => f.replace('.bench.mjs', ''))
  .sort();
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!available.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
}
const infra = await setUp();
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`\n=== bench: ${name}`);
  const { run } = await import(path.join(here, `${name}.bench.mjs`));
  const result = await run({ infra });
  const file = path.join(here, 'results', `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ bench: name, at: new Date().toISOString(), machine: machine(), ...result }, null, 2)}\n`);
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
}
process.exit(0);

function machine() {
  const os = process.getBuiltinModule?.('node:os');
  return os ? { cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version } : { node: process.version };
}
