// `npm run bench:runtime`: the runtime A/B of issue 45. The speed layer's catch-up (1 instance),
// the API's signals read and the batch recompute of the bench day, on two Node.js runtimes
// (the machine's other node, `--other <path>`, default /usr/bin/node, against the pinned one),
// and on the pinned one without the services' V8 flags (`sigflow.nodeArgs`), interleaved in
// one sitting: each round runs every arm once, in an order that alternates from round to
// round. Writes bench/results/runtime-ab.json: every figure, each arm's median, and the ratios
// of the medians (pinned / other, pinned bare / pinned).
import '../scripts/runtime.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { setUp } from '../scripts/lib.mjs';
import { jsonFromChild } from './child-json.mjs';
import { commandLineArg, load, median, root } from './lib.mjs';

const rounds = Number(commandLineArg('rounds', 2));
const other = commandLineArg('other', '/usr/bin/node');
const arms = [
  { name: 'other', node: other, env: { SIGFLOW_RUNTIME: 'current' } },
  { name: 'pinned', node: process.execPath, env: {} },
  { name: 'pinnedBare', node: process.execPath, env: { SIGFLOW_SERVICE_NODE_ARGS: 'off' } },
];
const parts = (commandLineArg('parts', 'speed,api,batch')).split(',');
const dayDir = path.join(root, 'var/bench-runtime-day');

await setUp();
const versions = Object.fromEntries(await Promise.all(arms.map(async (a) => [a.name, (await jsonFromChild(a.name, ['-p', 'JSON.stringify(process.version)'], { env: process.env, node: a.node }))])));
console.log(`runtimes: ${JSON.stringify(versions)}`);
const figures = Object.fromEntries(arms.map((a) => [a.name, Object.fromEntries(parts.map((p) => [p, []]))]));
const loads = [];
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? arms : [...arms].reverse();
  for (const part of parts) {
    for (const arm of order) {
      const env = { ...process.env, ...arm.env, BENCH_DAY_DIR: dayDir, BENCH_RECOMPUTE_ONE_WORKER: '0' };
      const before = load().loadavg1m;
      const value = await jsonFromChild(`${part} on ${arm.name}`, [path.join(root, 'bench/runtime-ab-part.mjs'), part], { cwd: root, env, node: arm.node });
      figures[arm.name][part].push(value);
      loads.push({ round, part, arm: arm.name, loadBefore: before, loadAfter: load().loadavg1m });
      console.log(`round ${round + 1}, ${part}, ${arm.name} (${versions[arm.name]}): ${value}`);
    }
  }
}
const medians = Object.fromEntries(arms.map((a) => [a.name, Object.fromEntries(parts.map((p) => [p, median(figures[a.name][p])]))]));
const ratio = (a, b) => Object.fromEntries(parts.map((p) => [p, Math.round((medians[a][p] / medians[b][p]) * 1000) / 1000]));
const result = {
  bench: 'runtime-ab',
  at: new Date().toISOString(),
  runtimes: versions,
  units: { speed: 'catch-up events/s, 1 instance', api: 'signals requests/s', batch: 'recompute events/s' },
  figures,
  medians,
  ratios: { pinnedOverOther: ratio('pinned', 'other'), pinnedBareOverPinned: ratio('pinnedBare', 'pinned') },
  loads,
};
fs.writeFileSync(path.join(root, 'bench/results/runtime-ab.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ medians: result.medians, ratios: result.ratios }, null, 2));
process.exit(0);
