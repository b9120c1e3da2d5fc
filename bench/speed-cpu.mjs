// The speed layer's CPU per event by stage, without Kafka or Redis: decode, the rules
// (collectRoundChanges), the commit builder and the commit's MessagePack packing, over a
// generated backlog fed as fetch rounds of 4 partitions. Repeatable on a busy machine (it
// measures the thread's own CPU time); `node bench/speed-cpu.mjs [events]`.
import { loadConfig } from '@sigflow/config';
import { EventStream } from '@sigflow/loadgen';
import { StoreKeys } from '@sigflow/store';
import { RoundChanges } from '../services/speed/dist/round-changes.js';
import { collectRoundChanges } from '../services/speed/dist/round-rules.js';
import { decodeFetch } from '../services/speed/dist/fetch-decoding.js';
import { buildPartitionCommit } from '../services/speed/dist/partition-commit.js';
import { PartitionCache } from '../services/speed/dist/partition-cache.js';
import { UserDirectory } from '../services/speed/dist/user-directory.js';
import { LuaPackWriter } from '../packages/store/dist/lua-msgpack.js';
import { createIpState, createUserState } from '@sigflow/core';

const EVENTS = Number(process.argv[2] ?? 400_000);
const ROUND = 3_000; // events per partition per round (a catch-up's 1 MiB fetch)
const config = loadConfig({});
const keys = new StoreKeys('cpu');
const day = 86_400_000;
const stream = new EventStream({ seed: 3, events: EVENTS, start: Date.now() - day, span: day, partitions: 4, duplicates: 0.01, bots: 0.01, floods: 0.002, orphans: 0.005 });
const byPartition = [[], [], [], []];
let received = Date.now() - day;
for (const e of stream) byPartition[e.partition].push(Buffer.from(`${e.json.slice(0, -1)},"received_at":${received++}}`));

const caches = byPartition.map((_, p) => new PartitionCache(p, null, undefined, config.rules.dedupeHorizonMs, new UserDirectory('0', true, Date.now(), config.speed.userTtlMs)));
const writer = new LuaPackWriter();
const cpu = { decode: 0, rules: 0, build: 0, pack: 0 };
const time = (stage, f) => {
  const t = process.cpuUsage();
  const r = f();
  const d = process.cpuUsage(t);
  cpu[stage] += d.user + d.system;
  return r;
};
let commands = 0;
for (let at = 0; ; at += ROUND) {
  const works = [];
  for (let p = 0; p < 4; p++) {
    const values = byPartition[p].slice(at, at + ROUND);
    if (values.length === 0) continue;
    const fetch = { partition: p, offsets: values.map((_, i) => at + i), values, nextOffset: at + values.length, highWatermark: 0 };
    const { messages } = time('decode', () => decodeFetch(fetch));
    const cache = caches[p];
    for (const m of messages) if (!cache.users.has(m.event.user_id)) cache.users.set(m.event.user_id, { user: createUserState(), signals: 0, sinceSnapshot: 0, hasSnapshot: false, ttlAt: 0 });
    for (const m of messages) {
      if (m.event.type !== 'click' || m.event.ip === undefined) continue;
      for (const c of caches) if (!c.ips.has(m.event.ip)) c.ips.set(m.event.ip, createIpState());
    }
    cache.dedupe.missingHours(messages.map((m) => m.event.ts)).forEach((h) => cache.dedupe.load(h, null));
    works.push({ cache, messages, changes: new RoundChanges() });
  }
  if (works.length === 0) break;
  time('rules', () => collectRoundChanges({ settings: config.rules, shapley: null }, works, caches, new Map()));
  for (const w of works) {
    const built = time('build', () => buildPartitionCommit({ keys, settings: config.rules, speed: config.speed, now: Date.now() }, w.cache, w.changes));
    commands += built.length;
    time('pack', () => {
      writer.reset();
      writer.array(built.length);
      for (const c of built) writer.value(c);
    });
  }
}
const per = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round((v / EVENTS) * 100) / 100]));
const total = Math.round(Object.values(cpu).reduce((a, b) => a + b, 0) / EVENTS * 100) / 100;
console.log(JSON.stringify({ events: EVENTS, cpuMicrosPerEvent: { ...per, total }, commandsPerEvent: Math.round((commands / EVENTS) * 100) / 100, heapMb: Math.round(process.memoryUsage().heapUsed / 1e6) }));
