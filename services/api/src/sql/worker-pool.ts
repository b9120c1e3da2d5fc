import type { SandboxSettings } from './sandbox-duckdb.js';
import { SqlRefusal } from './sql-refusal.js';
import { SqlWorkerProcess } from './worker-process.js';

/** How a pool runs its workers. */
export interface SqlWorkerPoolOptions {
  /** Worker processes at most (`sql.workers`). */
  readonly size: number;
  readonly settings: SandboxSettings;
  /** Starts a worker (tests may count or wrap them); default {@link SqlWorkerProcess.start}. */
  readonly start?: (settings: SandboxSettings) => Promise<SqlWorkerProcess>;
}

interface Waiter {
  readonly resolve: (worker: SqlWorkerProcess) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The SQL worker processes of one API process, started when a query first needs one: a query
 * takes a free worker, or starts one while fewer than `size` run, or waits (first come, first
 * served) until one is given back or its deadline passes (503). A worker that exited (killed
 * after a query that did not stop, or its database failed) is not given out again: the next
 * query that needs one starts a new one.
 */
export class SqlWorkerPool {
  private readonly idle: SqlWorkerProcess[] = [];
  private readonly all = new Set<SqlWorkerProcess>();
  private readonly waiters: Waiter[] = [];
  private running = 0;
  private closed = false;
  private readonly start: (settings: SandboxSettings) => Promise<SqlWorkerProcess>;

  constructor(private readonly options: SqlWorkerPoolOptions) {
    this.start = options.start ?? ((s) => SqlWorkerProcess.start(s));
  }

  /** A worker for one query, by `deadline` (epoch ms) at the latest. */
  async acquire(deadline: number): Promise<SqlWorkerProcess> {
    if (this.closed) throw new SqlRefusal(503, 'the SQL workers are shutting down');
    for (let worker = this.idle.pop(); worker; worker = this.idle.pop()) {
      if (worker.alive) return worker;
      this.forget(worker);
    }
    if (this.running < this.options.size) return this.startOne();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.waiters.findIndex((w) => w.timer === timer);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new SqlRefusal(503, `all ${this.options.size} SQL workers stayed busy; retry later`));
      }, Math.max(0, deadline - Date.now()));
      this.waiters.push({ resolve, reject, timer });
    });
  }

  /** Gives a worker back after its query (a dead one frees its place). */
  release(worker: SqlWorkerProcess): void {
    if (!worker.alive) {
      this.forget(worker);
      const waiter = this.waiters.shift();
      if (waiter) {
        clearTimeout(waiter.timer);
        this.startOne().then(waiter.resolve, waiter.reject);
      }
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(worker);
    } else if (this.closed) worker.kill();
    else this.idle.push(worker);
  }

  /** The pids of the idle workers (tests). */
  get idlePids(): number[] {
    return this.idle.map((w) => w.pid ?? 0);
  }

  /** Stops every worker (a query still running fails) and refuses what waits. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new SqlRefusal(503, 'the SQL workers are shutting down'));
    }
    this.idle.length = 0;
    const all = [...this.all];
    for (const worker of all) worker.kill();
    await Promise.all(all.map((w) => w.gone()));
  }

  private forget(worker: SqlWorkerProcess): void {
    if (this.all.delete(worker)) this.running--;
  }

  private async startOne(): Promise<SqlWorkerProcess> {
    this.running++;
    try {
      const worker = await this.start(this.options.settings);
      this.all.add(worker);
      if (this.closed) worker.kill();
      return worker;
    } catch (err) {
      this.running--;
      throw new SqlRefusal(500, `a SQL worker could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
