import { Worker } from 'node:worker_threads';
import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import type { MarkovModel, RuleSettings, ShapleyTable } from '@sigflow/core';
import { pickRows, readRawColumns, type ColumnPlan, type RawColumn } from './chunk-columns.js';
import type { HourTotals } from './hour-views.js';
import { codeRuleColumns, viewsOnlyOmittedColumns } from './rule-columns.js';
import type { RuleThreadData, RuleThreadRequest } from './rule-thread.js';
import { floodedClicksOf, type RuleRunStats } from './run-rules.js';
import { RuleThreadError } from './errors.js';

/** What {@link RuleThreadPool.run} needs: the rules' inputs and the pass's hours. */
export interface ShardedRuleOptions {
  readonly settings: RuleSettings;
  readonly shapley?: ShapleyTable | null | undefined;
  readonly markov?: MarkovModel | null | undefined;
  /** SQL filter on the table's rows (default: every row). */
  readonly where?: string | undefined;
  /** The pass's hours [from, to): outcomes of events outside are not summed. */
  readonly from: number;
  readonly to: number;
  readonly onChunk?: (processed: number) => void | Promise<void>;
  /** As `RuleRunOptions.verdictColumn` and `floodTable`. */
  readonly verdictColumn?: string | undefined;
  readonly floodTable?: string | undefined;
}

/** Chunks a rule thread may have queued before the main thread waits for it. */
const maxQueuedChunks = 8;

// Tests run the sources (TypeScript); a thread runs the built file either way.
const threadUrl = import.meta.url.endsWith('.ts') ? new URL('../dist/rule-thread.js', import.meta.url) : new URL('./rule-thread.js', import.meta.url);

/** FNV-1a of a user id: which rule thread owns the user. */
function shardOf(userId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** One rule thread: its queue of chunks (bounded), its failure, its final sums. */
class RuleThread {
  private readonly worker: Worker;
  private queued = 0;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  private totals: ((t: HourTotals) => void) | undefined;

  constructor() {
    // No node CLI flags of the parent (an --eval or --input-type would not apply to a file);
    // V8's flags (the young generation size) are the process's anyway.
    this.worker = new Worker(threadUrl, { execArgv: [] });
    this.worker.on('message', (m: { done?: number; totals?: HourTotals }) => {
      if (m.totals) this.totals?.(m.totals);
      else this.queued--;
      this.wake();
    });
    const fail = (err: Error) => {
      this.failure ??= new RuleThreadError(`a rule thread failed: ${err.message}`, { cause: err });
      this.wake();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exited with ${code}`)));
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Starts a pass. */
  start(data: RuleThreadData): void {
    this.check();
    this.worker.postMessage({ start: data } satisfies RuleThreadRequest);
  }

  /** Queues rows of this thread's users (their typed arrays are moved, not copied). */
  async send(rows: RawColumn[], rowCount: number): Promise<void> {
    while (this.queued >= maxQueuedChunks && !this.failure) await new Promise<void>((r) => (this.waiting = r));
    this.check();
    const transfer = rows.flatMap((c) => (Array.isArray(c.values) ? [c.valid.buffer] : [c.valid.buffer, c.values.buffer])) as ArrayBuffer[];
    this.queued++;
    this.worker.postMessage({ rows, rowCount } satisfies RuleThreadRequest, transfer);
  }

  /** Waits for the queued rows, then returns the thread's sums. */
  async finish(): Promise<HourTotals> {
    this.check();
    const totals = new Promise<HourTotals>((resolve) => (this.totals = resolve));
    this.worker.postMessage({ finish: true } satisfies RuleThreadRequest);
    for (;;) {
      const woke = new Promise<void>((r) => (this.waiting = r));
      const t = await Promise.race([totals, woke.then(() => undefined)]);
      if (t) return t;
      this.check();
    }
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Rule threads of one recompute, kept across its passes. {@link RuleThreadPool.run} is
 * {@link runRules} for a pass, over the threads sharded by user: the main thread streams the
 * table sorted by (user_id, ts, event_id) from DuckDB and hands each user's rows, in order, to
 * the thread its id hashes to; every thread runs the same loop (core's `processEvent` through
 * `UserRuleFeed`) and sums its outcomes per hour; the sums come back for the caller to merge
 * (the views are sums: the order of merging does not matter, up to float additions in
 * attribution). The IP flood verdicts are computed once per pass, before.
 */
export class RuleThreadPool {
  private constructor(private readonly threads: RuleThread[]) {}

  static open(threads: number): RuleThreadPool {
    return new RuleThreadPool(Array.from({ length: Math.max(1, threads) }, () => new RuleThread()));
  }

  async run(conn: DuckDBConnection, table: string, options: ShardedRuleOptions): Promise<RuleRunStats & { readonly totals: HourTotals[] }> {
    const t0 = performance.now();
    const flooded = await floodedClicksOf(conn, options.floodTable ?? table, options.settings);
    const t1 = performance.now();
    // The threads run the rules for views alone.
    const ruleColumns = await codeRuleColumns(conn, table, viewsOnlyOmittedColumns, options.verdictColumn);
    try {
      const { plan } = ruleColumns;
      const data: RuleThreadData = {
        plan,
        settings: options.settings,
        shapley: options.shapley,
        markov: options.markov,
        flooded: [...flooded],
        from: options.from,
        to: options.to,
        verdictColumn: options.verdictColumn,
      };
      for (const thread of this.threads) thread.start(data);
      const result = await conn.stream(`SELECT ${ruleColumns.select} FROM ${table} WHERE ${options.where ?? 'true'} ORDER BY user_id, ts, event_id`);
      const stats = await this.dispatch(result, plan, options, t1);
      const t = performance.now();
      const totals = await Promise.all(this.threads.map((thread) => thread.finish()));
      return { ...stats, rulesJsMs: stats.rulesJsMs + performance.now() - t, floodMs: t1 - t0, totalMs: performance.now() - t0, totals };
    } finally {
      await ruleColumns.drop();
    }
  }

  /** Streams the sorted rows to the threads, each user's to the thread its id hashes to. */
  private async dispatch(result: DuckDBResult, plan: readonly ColumnPlan[], options: ShardedRuleOptions, t1: number) {
    const threads = this.threads;
    const stats = { processed: 0, waitMs: 0, convertMs: 0, rulesJsMs: 0, sortMs: -1 };
    const userColumn = plan.findIndex((p) => p.name === 'user_id');
    let next = result.fetchChunk();
    for (;;) {
      let t = performance.now();
      const chunk = await next;
      if (stats.sortMs < 0) stats.sortMs = t - t1;
      stats.waitMs += performance.now() - t;
      if (!chunk || chunk.rowCount === 0) break;
      next = result.fetchChunk();
      t = performance.now();
      const raw = readRawColumns(chunk, plan);
      const users = (raw[userColumn] as RawColumn).values as string[];
      const picked: number[][] = threads.map(() => []);
      for (let i = 0, shard = 0; i < chunk.rowCount; i++) {
        if (i === 0 || users[i] !== users[i - 1]) shard = shardOf(users[i] as string, threads.length);
        (picked[shard] as number[]).push(i);
      }
      const parts = picked.map((rows) => (rows.length > 0 ? pickRows(raw, rows) : undefined));
      stats.convertMs += performance.now() - t;
      t = performance.now();
      for (const [k, rows] of parts.entries()) if (rows) await (threads[k] as RuleThread).send(rows, (picked[k] as number[]).length);
      stats.rulesJsMs += performance.now() - t;
      stats.processed += chunk.rowCount;
      await options.onChunk?.(stats.processed);
    }
    return { ...stats, sortMs: Math.max(0, stats.sortMs) };
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }
}
