// bench:peer (issue 47): the speed layer against the reference Flink job in one sitting, on the
// same pre-filled topic, with `../shared/peers/flink/run-compare.sh` (it builds the Flink jar
// under var/flink-peer on first use, fills a fresh topic, runs Flink, then sigflow, compares
// the views in Redis and cleans up). Two comparisons: 1 speed instance against Flink at
// parallelism 1 (`peer.ratioOneInstance`), and 2 against parallelism 2 (`peer.ratio`). The
// speed processes start as the peer's script starts them: `node` with the service's own
// `sigflow.nodeArgs`, as every launcher does. Not part of `npm test`.
// A single run of either engine moved 15-25 % from one sitting to the next on one host
// (README, "Against the Flink peer"), so each comparison runs BENCH_PEER_ROUNDS times (3),
// the two comparisons interleaved and the engines' order alternating (ORDER flink-first /
// sigflow-first); the ratios written are the medians, every run is kept in `runs`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@sigflow/config';
import { createKafka, deleteTopics } from '@sigflow/kafka';
import { load, median, root } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_PEER_EVENTS ?? 2_000_000);
const ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? 3);
const script = path.resolve(root, '../shared/peers/flink/run-compare.sh');

const kafka = createKafka(loadConfig().kafka);

/** Topics of the peer's runs (`peercmp-<time>-<pid>.`), as the broker lists them. */
async function peerTopics() {
  const admin = kafka.admin();
  try {
    return (await admin.listTopics()).filter((t) => t.startsWith('peercmp-'));
  } finally {
    await admin.close();
  }
}

/** Runs the peer's comparison with `instances` speed processes against Flink at that parallelism; its summary and view comparison. */
async function compare(instances, order) {
  const outDir = path.join(root, 'var/peer-results', `bench-${instances}-${Date.now()}`);
  const env = { ...process.env, SIGFLOW_ROOT: root, PARALLELISM: String(instances), SIGFLOW_INSTANCES: String(instances), OUT_DIR: outDir, ORDER: order };
  const loadBefore = load();
  const before = new Set(await peerTopics());
  const code = await new Promise((resolve) => {
    const child = spawn('bash', [script, String(EVENTS)], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  // The script deletes the topics it made; the speed processes also made the run's bidding and ops topics.
  const left = (await peerTopics()).filter((t) => !before.has(t));
  if (left.length > 0) await deleteTopics(kafka, left);
  if (code !== 0) throw new Error(`run-compare.sh with ${instances} instance(s) exited with ${code}; its files are in ${outDir}`);
  const summary = JSON.parse(fs.readFileSync(path.join(outDir, 'summary.json'), 'utf8'));
  const views = JSON.parse(fs.readFileSync(path.join(outDir, 'compare.json'), 'utf8'));
  const row = {
    instances,
    order,
    events: summary.events,
    flinkEventsPerSecond: summary.flink_eps,
    sigflowEventsPerSecond: summary.sigflow_eps,
    ratio: summary.ratio_sigflow_over_flink,
    viewsIdentical: views.identical === true,
    loadBefore,
    loadAfter: load(),
    ...(summary.warning ? { warning: summary.warning } : {}),
  };
  console.log(`peer, ${instances} instance(s), ${order}: Flink ${row.flinkEventsPerSecond} events/s, sigflow ${row.sigflowEventsPerSecond}: ratio ${row.ratio}; views identical: ${row.viewsIdentical}`);
  return row;
}

export async function run() {
  if (!fs.existsSync(script)) throw new Error(`the Flink peer is not at ${script}`);
  const runs = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? 'flink-first' : 'sigflow-first';
    runs.push(await compare(1, order), await compare(2, order));
  }
  const ratios = (instances) => runs.filter((r) => r.instances === instances).map((r) => r.ratio);
  const peer = { ratio: median(ratios(2)), ratioOneInstance: median(ratios(1)), viewsIdentical: runs.every((r) => r.viewsIdentical), rounds: ROUNDS };
  console.log(`peer: median ratio ${peer.ratio} (2 instances), ${peer.ratioOneInstance} (1 instance) over ${ROUNDS} round(s); views identical in every run: ${peer.viewsIdentical}`);
  return { peer, runs };
}
