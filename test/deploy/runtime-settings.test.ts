// However a service is started, it runs with the Node flags its measured pace depends on (its
// package.json's `sigflow.nodeArgs`, which npm start, the benches and the compose file give
// it), or it says loudly at start-up that it does not, and so does its /metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childPids } from '@sigflow/test-support';
import { Scenario } from '../support/scenario.js';
import { declaredNodeArgs, type ServiceProcess } from '../support/services.js';

const gauge = async (service: ServiceProcess, name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
};
const flagsMissing = (service: ServiceProcess) => gauge(service, 'sigflow_runtime_flags_missing');
const MIB = 1024 * 1024;
/** Each thread's nice value (field 19 of /proc/PID/task/TID/stat), by thread id, read apart from the code under test. */
const threadNice = (pid: number): Map<number, number> =>
  new Map(
    fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
      const fields = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return [Number(tid), Number(fields[16])];
    }),
  );
/** The start-up line about runtime settings in a service's log. */
const settingsLine = (service: ServiceProcess) =>
  fs
    .readFileSync(service.log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"inEffect"'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; expected: string[]; inEffect: string[]; missing?: string[] })
    .pop();

describe('runtime settings a service starts with', () => {
  const scenario = new Scenario('runtime');
  const archive = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-runtime-'));
  beforeAll(() => scenario.setUp());
  afterAll(async () => {
    await scenario.tearDown();
    fs.rmSync(archive, { recursive: true, force: true });
  });

  /** Starts `service` bare, then the same service by its launcher: what each says of its flags. */
  const bareThenLaunched = async (folder: string, bare: ServiceProcess, launched: ServiceProcess) => {
    const expected = declaredNodeArgs(folder);
    expect(expected.length).toBeGreaterThan(0);
    bare.bare = true;
    await bare.start();
    expect(await flagsMissing(bare)).toBe(expected.length);
    const warned = settingsLine(bare);
    expect(warned).toMatchObject({ level: 40, missing: expected, inEffect: [] });
    for (const flag of expected) expect(warned?.msg).toContain(flag);
    await bare.stop();

    await launched.start();
    expect(await flagsMissing(launched)).toBe(0);
    expect(settingsLine(launched)).toMatchObject({ level: 30, msg: 'runtime settings in effect', expected, inEffect: expected });
    await launched.stop();
  };

  it('the speed layer started bare says which flags it lacks; started by its launcher, it lacks none', async () => {
    await bareThenLaunched('services/speed', await scenario.speed('speed-bare'), await scenario.speed('speed-launched'));
  });

  it("the speed layer's cache fills its heap budget under the launcher's heap limit, and no more than 60 % of it when the budget asks for more", async () => {
    const launched = await scenario.speed('speed-budget');
    await launched.start();
    await launched.ready();
    expect(await gauge(launched, 'sigflow_speed_cache_budget_bytes')).toBe(16 * MIB); // the default budget (README), whole
    await launched.stop();

    // 3,000 MiB asked for under the declared --max-old-space-size=2560: 0.6 x (2,560 MiB + the young generation, under 256 MiB).
    const tooBig = await scenario.speed('speed-budget-big', { SIGFLOW_SPEED_CACHE_HEAP_MB: '3000' });
    await tooBig.start();
    await tooBig.ready();
    const budget = await gauge(tooBig, 'sigflow_speed_cache_budget_bytes');
    expect(budget).toBeGreaterThanOrEqual(Math.floor(0.6 * 2_560 * MIB));
    expect(budget).toBeLessThan(0.6 * (2_560 + 256) * MIB);
    expect(fs.readFileSync(tooBig.log, 'utf8')).toContain('start with --max-old-space-size=5000');
    await tooBig.stop();
  });

  it('the batch layer, likewise', async () => {
    const env = { SIGFLOW_BATCH_WORKERS: '1' };
    await bareThenLaunched('jobs/batch', await scenario.batchWorker(archive, 'batch-bare', env), await scenario.batchWorker(archive, 'batch-launched', env));
  });

  it("the batch layer runs at SIGFLOW_BATCH_NICE: every thread of the service and of each of its worker processes (libuv's pool, where DuckDB starts its own)", async () => {
    const batch = await scenario.batchWorker(archive, 'batch-nice', { SIGFLOW_BATCH_WORKERS: '2', SIGFLOW_BATCH_NICE: '7' });
    await batch.start();
    await batch.ready();
    const pid = batch.pid as number;
    const workers = childPids(pid);
    expect(workers).toHaveLength(2);
    for (const proc of [pid, ...workers]) {
      const threads = threadNice(proc);
      expect(threads.get(proc)).toBe(7);
      // Every thread: libuv's pool and V8's.
      expect([...threads.values()].filter((n) => n !== 7)).toEqual([]);
      expect(threads.size).toBeGreaterThan(os.cpus().length);
    }
    await batch.stop();
  });
});
