// `npm start`: installs what is missing, starts Redis and Kafka when they are not running,
// every service that exists, and the traffic generator at a demo rate. Ctrl-C stops what it
// started (services, generator, and the Kafka/Redis it started itself).
import './runtime.mjs';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { root, setUp } from './lib.mjs';
import { serviceNodeArgs, sharedMachineEnv } from '../infra/lib/process.mjs';
import { localArchiveDefaults } from '../infra/s3proxy/s3proxy.mjs';

const log = (line) => console.log(`[start] ${line}`);
// The archive in a bucket of a local endpoint: the key pair and addressing of the S3Proxy that
// setUp starts there when nothing answers, unless set.
Object.assign(process.env, localArchiveDefaults(process.env));
const infra = await setUp({ log });

const env = { ...process.env };
// A local demo needs keys to open the dashboard and the API; real deployments set their own.
const demoKeys = env.SIGFLOW_API_KEYS === undefined;
if (demoKeys) env.SIGFLOW_API_KEYS = 'demo-reader:reader,demo-analyst:analyst,demo-ops:ops,demo-privacy:privacy';
// The demo recomputes dirty hours every minute (the default schedule is every 5 minutes).
env.SIGFLOW_BATCH_RECOMPUTE_EVERY ??= '* * * * *';
// Every service shares this machine: the batch layer's recomputes take the cores the speed layer leaves.
for (const [name, value] of Object.entries(sharedMachineEnv)) env[name] ??= value;
// The demo's alert webhook receiver runs on this machine (below): the demo allows loopback targets.
env.SIGFLOW_ALERTS_WEBHOOK_ALLOW ??= '127.0.0.0/8';
const port = (name, fallback) => Number(env[name] ?? fallback);
// The demo site (a landing page with the web tracker) sends from its own origin with a public
// site key: the collector must know both.
const demoSitePort = port('SIGFLOW_DEMO_SITE_PORT', 7007);
const demoSiteUrl = `http://127.0.0.1:${demoSitePort}`;
env.SIGFLOW_COLLECTOR_SITE_KEYS ??= 'demo-site-key:demo';
env.SIGFLOW_COLLECTOR_ALLOWED_ORIGINS ??= `${demoSiteUrl},http://localhost:${demoSitePort}`;
const demoSiteKey = env.SIGFLOW_COLLECTOR_SITE_KEYS.split(',')[0].replace(/:[^:]*$/, '').trim();
/** The platform's services, in start order; those not built yet are skipped. */
const services = [
  { name: 'collector', dir: 'services/collector', url: `http://127.0.0.1:${port('SIGFLOW_COLLECTOR_PORT', 7001)}`, what: 'HTTP ingest (POST /v1/events, /docs, /metrics)' },
  { name: 'speed', dir: 'services/speed', url: `http://127.0.0.1:${port('SIGFLOW_SPEED_METRICS_PORT', 7002)}`, what: 'speed layer (/metrics, /healthz)' },
  { name: 'archiver', dir: 'services/archiver', url: `http://127.0.0.1:${port('SIGFLOW_ARCHIVER_METRICS_PORT', 7003)}`, what: 'Parquet archiver (/metrics)' },
  { name: 'batch', dir: 'jobs/batch', url: `http://127.0.0.1:${port('SIGFLOW_BATCH_METRICS_PORT', 7004)}`, what: 'batch scheduler + workers (/metrics)' },
  { name: 'api', dir: 'services/api', url: `http://127.0.0.1:${port('SIGFLOW_API_PORT', 7000)}`, what: 'serving API + dashboard' },
  { name: 'bidding', dir: 'services/bidding', url: `http://127.0.0.1:${port('SIGFLOW_BIDDING_METRICS_PORT', 7005)}`, what: 'pacing and bid multipliers every second (/metrics)' },
  { name: 'alerts', dir: 'services/alerts', url: `http://127.0.0.1:${port('SIGFLOW_ALERTS_METRICS_PORT', 7006)}`, what: 'alert rules at each window close, webhook deliveries (/metrics)' },
].filter((s) => fs.existsSync(path.join(root, s.dir, 'dist/main.js')));

const logDir = path.join(root, 'var/logs');
fs.mkdirSync(logDir, { recursive: true });
const children = [];
let stopping = false;

function launch(name, args, cwd = root) {
  const out = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.on('exit', (code, signal) => {
    if (!stopping && (code !== 0 || signal)) log(`${name} exited (${signal ?? code}); see var/logs/${name}.log`);
  });
  children.push({ name, child });
  return child;
}

async function waitHealthy(url, name) {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  log(`${name} did not answer ${url}/healthz; see var/logs/${name}.log`);
  return false;
}

// What an earlier release left (its store and topics) is brought to this release's layout
// before any service starts (`npm run jobs -- migrate`; CHANGELOG.md).
const jobsCli = path.join(root, 'jobs/batch/dist/cli.js');
if (fs.existsSync(jobsCli)) {
  const migrated = await new Promise((resolve) => launch('migrate', [jobsCli, 'migrate']).once('exit', resolve));
  if (migrated !== 0) {
    log(`the migration to this release's layout failed; see var/logs/migrate.log`);
    await stopInfra();
    process.exit(1);
  }
}

for (const s of services) {
  launch(s.name, [...serviceNodeArgs(path.join(s.dir, 'dist/main.js')), path.join(root, s.dir, 'dist/main.js')]);
  await waitHealthy(s.url, s.name);
}

const demoSiteMain = path.join(root, 'packages/tracker/dist/node/demo-site-main.js');
const collectorService = services.find((s) => s.name === 'collector');
const demoSite = fs.existsSync(demoSiteMain) && collectorService ? demoSiteUrl : null;
if (demoSite) launch('demo-site', [demoSiteMain, '--port', String(demoSitePort), '--collector', collectorService.url, '--site', demoSiteKey]);

const rate = Number(env.SIGFLOW_DEMO_RATE ?? 200);

// Demo budgets, so the pacing panel and GET /v1/bidding have campaigns: the generator's first six
// campaigns, in several time zones, near what they spend a day at the demo rate (at 200 events/s
// about 45,000, 10,700, 4,000, 27,600, 1,000 and 22,000 EUR), some well under it, some above.
const apiService = services.find((s) => s.name === 'api');
if (demoKeys && apiService) {
  const budgets = [
    ['cmp-1', 20_000, 'UTC', 2],
    ['cmp-2', 11_000, 'Europe/Berlin', 1.5],
    ['cmp-3', 12_000, 'America/New_York', 1],
    ['cmp-4', 25_000, 'Asia/Tokyo', 1],
    ['cmp-5', 800, 'UTC', 3],
    ['cmp-6', 45_000, 'Asia/Kolkata', 1.2],
  ];
  const results = await Promise.all(
    budgets.map(([campaign, eur, timeZone, targetRoas]) =>
      fetch(`${apiService.url}/v1/campaigns/${campaign}/budget`, {
        method: 'PUT',
        headers: { 'x-api-key': 'demo-ops', 'content-type': 'application/json' },
        body: JSON.stringify({ dailyBudgetMicros: Math.round((eur * rate) / 200) * 1_000_000, timeZone, targetRoas }),
      }).then((res) => res.ok, () => false),
    ),
  );
  log(`demo budgets: ${results.filter(Boolean).length} of ${budgets.length} campaigns (cmp-1..cmp-6) have a daily budget`);
}
if (demoKeys && apiService) await demoSegmentsAndAlerts(apiService.url);
const hardCases = ['--duplicates', '0.01', '--bots', '0.02', '--floods', '0.005', '--orphans', '0.005', '--too-fast', '0.005'];
// History first: the last few hours of traffic, straight to Kafka, so the batch layer has
// closed hours to recompute and the dashboard shows batch views replacing speed views.
const backfillHours = Number(env.SIGFLOW_DEMO_BACKFILL_HOURS ?? 3);
const generator = path.join(root, 'packages/loadgen/dist/cli.js');
const collector = services.find((s) => s.name === 'collector');
let backfilled = false;
if (fs.existsSync(generator) && backfillHours > 0) {
  log(`backfilling ${backfillHours} h of history into Kafka...`);
  const span = backfillHours * 3_600_000;
  const backfill = launch('backfill', [
    generator, '--sink', 'kafka', '--rate', '0', '--events', String(40_000 * backfillHours), '--seed', '1',
    '--start', new Date(Date.now() - span - 60_000).toISOString(), '--span', `${backfillHours}h`, '--late', '0.02', '--quiet', ...hardCases,
  ]);
  backfilled = (await new Promise((resolve) => backfill.once('exit', resolve))) === 0;
}
if (fs.existsSync(generator) && collector) {
  launch('generator', [
    generator, '--sink', 'http', '--collector', collector.url, '--rate', String(rate), '--duration', '86400',
    '--seed', String(Date.now() % 100000), '--late', '0.01', '--out-of-order', '0.02', ...hardCases,
  ]);
}

// Shoppers of the demo site sent the way many sites already send: Segment's analytics-node,
// pointed at the collector's Segment API with the site's write key (its site key).
const shoppers = path.join(root, 'packages/loadgen/dist/shoppers-cli.js');
if (fs.existsSync(shoppers) && collector) {
  launch('shoppers', [shoppers, '--collector', collector.url, '--write-key', demoSiteKey, '--visits-per-second', '2', '--seed', String(Date.now() % 100000)]);
}

console.log('\nsigflow is running:');
console.log(`  Kafka   ${infra.brokers.join(',')}${infra.kafka.started ? ' (started by npm start)' : ''}   topics ${Object.values(infra.topics).join(', ')}`);
console.log(`  Redis   ${infra.redisUrl}${infra.redis.started ? ' (started by npm start)' : ''}`);
console.log(`  archive ${infra.archive}${infra.s3.started ? ` (S3Proxy on ${infra.s3.endpoint} started by npm start, data in var/s3proxy)` : ''}`);
for (const s of services) console.log(`  ${s.name.padEnd(9)} ${s.url}   ${s.what}`);
if (children.some((c) => c.name === 'generator')) console.log(`  generator ${rate} events/s through the collector (demo traffic)`);
if (children.some((c) => c.name === 'shoppers')) console.log('  shoppers  2 visits/s with analytics-node through the Segment API (search, view_item, add_to_wishlist, promotions, orders): look up shopper-<n> in the user panel');
const api = services.find((s) => s.name === 'api');
if (api) {
  console.log(`\n  dashboard  ${api.url}/#key=${demoKeys ? 'demo-ops' : '<an ops or analyst key from SIGFLOW_API_KEYS>'}`);
  console.log(`  API docs   ${api.url}/docs${demoKeys ? '   (demo keys: demo-reader, demo-analyst, demo-ops, demo-privacy)' : ''}`);
  if (demoSite) console.log(`  demo site  ${demoSite}/   a landing page with the tracker: click around, then pick page "landing" in the dashboard's on-page heatmap`);
}
console.log(`  logs    var/logs/*.log\nCtrl-C stops what npm start started.\n`);

/**
 * Demo segments and alert rules, set before the traffic so the speed layer evaluates them from the
 * first event; the alerts go to a receiver of this script that writes each delivery to
 * var/logs/webhook.log.
 */
async function demoSegmentsAndAlerts(apiUrl) {
  const put = (url, body) => fetch(`${apiUrl}${url}`, { method: 'PUT', headers: { 'x-api-key': 'demo-ops', 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((res) => res.ok, () => false);
  const segments = {
    engaged: { all: [{ feature: 'engagement_score', op: '>=', value: 3 }] },
    clickers_24h: { all: [{ feature: 'count:click:24h', op: '>=', value: 1 }] },
    multi_channel: { all: [{ feature: 'channels', op: '>=', value: 2 }] },
    likely_bots: { all: [{ feature: 'flagged', op: '==', value: true }] },
    recent_buyers: { all: [{ feature: 'last_conversion_age_s', op: '<', value: 86400 }] },
  };
  const made = await Promise.all(Object.entries(segments).map(([name, rule]) => put(`/v1/segments/${name}`, { rule })));
  const { createServer } = await import('node:http');
  const out = fs.openSync(path.join(logDir, 'webhook.log'), 'a');
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      fs.writeSync(out, `${new Date().toISOString()} ${req.headers['x-sigflow-signature']} ${body}\n`);
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiver.unref();
  const webhook = { url: `http://127.0.0.1:${receiver.address().port}/alerts`, secret: 'demo-webhook-secret' };
  const rules = {
    ctr_drop: { metric: 'ctr', condition: { op: 'drop_pct', threshold: 80 }, for: 5, webhook },
    invalid_traffic: { metric: 'invalid_share', condition: { op: '>=', threshold: 0.25 }, for: 3, webhook },
  };
  const set = await Promise.all(Object.entries(rules).map(([name, rule]) => put(`/v1/alerts/rules/${name}`, rule)));
  log(`demo segments: ${made.filter(Boolean).length} of ${made.length}; demo alert rules: ${set.filter(Boolean).length} of ${set.length} (deliveries in var/logs/webhook.log)`);
}

// A status line: how many events have reached Kafka, so a user sees traffic flowing.
const { loadConfig } = await import('@sigflow/config');
const { committedOffsets, createKafka, partitionOffsets } = await import('@sigflow/kafka');
const kafka = createKafka(loadConfig().kafka, { retries: 1 });
const admin = kafka.admin();
let last;
const status = setInterval(async () => {
  try {
    const offsets = await partitionOffsets(admin, infra.topics.events, 'latest');
    const total = [...offsets.values()].reduce((sum, high) => sum + high, 0);
    const rateNow = last === undefined ? '' : `, ${Math.round((total - last) / 5)} events/s`;
    last = total;
    log(`${infra.topics.events}: ${total} events in Kafka${rateNow}`);
  } catch (err) {
    log(`Kafka status unavailable: ${err.message}`);
  }
}, 5_000);

// The demo trains the data-driven Shapley table once, over the backfilled history: after the
// archiver has committed every event the backfill sent, one `train-attribution` job (the batch
// CLI's `train`, as ops would run it). The daily schedule retrains it afterwards.
async function archivedThrough(marks) {
  const at = await committedOffsets(kafka, loadConfig().archiver.groupId, infra.topics.events);
  return [...marks].every(([partition, high]) => (at.get(partition) ?? -1) >= high);
}

async function trainAfterBackfill() {
  const cli = path.join(root, 'jobs/batch/dist/cli.js');
  if (!backfilled || !fs.existsSync(cli) || !services.some((s) => s.name === 'batch')) return;
  const marks = await partitionOffsets(admin, infra.topics.events, 'latest');
  const deadline = Date.now() + 180_000;
  while (!(await archivedThrough(marks).catch(() => false))) {
    if (stopping) return;
    if (Date.now() > deadline) return log('the archiver has not caught up with the backfill in 3 min; no demo training (run `npm run jobs -- train`)');
    await sleep(1_000);
  }
  log('training the Shapley table over the backfilled history (var/logs/train.log)...');
  const trainer = launch('train', [cli, 'train', '--wait']);
  const code = await new Promise((resolve) => trainer.once('exit', resolve));
  if (!stopping) log(code === 0 ? 'Shapley table trained: the dashboard header shows its version' : `training failed (${code}); see var/logs/train.log`);
}
trainAfterBackfill().catch((err) => log(`demo training skipped: ${err.message}`));

async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(status);
  log('stopping...');
  await admin.close().catch(() => undefined);
  // Last started, first stopped, one at a time: the generator must be gone before the
  // collector it sends to, the services before Kafka and Redis.
  for (const { name, child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      log(`${name} did not stop within 15 s; killing it`);
      child.kill('SIGKILL');
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }
  await stopInfra();
  log('stopped');
  process.exit(0);
}

/** Stops the S3Proxy, Kafka and Redis this script started (those it found running stay). */
async function stopInfra() {
  const { stopKafkaBroker } = await import('../infra/kafka/broker.mjs');
  const { stopRedisServer } = await import('../infra/redis/redis.mjs');
  const { stopS3Proxy } = await import('../infra/s3proxy/s3proxy.mjs');
  if (infra.s3.started) await stopS3Proxy();
  if (infra.kafka.started) await stopKafkaBroker();
  if (infra.redis.started) await stopRedisServer({ dir: infra.redis.dir });
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
