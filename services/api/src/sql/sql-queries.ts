import { Readable } from 'node:stream';
import type { AnswerFormat } from './formats/answer-format.js';
import type { QueryStats } from './formats/answer-pieces.js';
import type { RedisTableRows } from './redis-table-rows.js';
import type { AnswerColumn, FromWorker } from './sql-messages.js';
import { SqlRefusal } from './sql-refusal.js';
import type { SqlWorkerPool } from './worker-pool.js';
import type { SqlWorkerProcess } from './worker-process.js';

/** After an interrupt, how long a worker may take to stop its query before it is killed and replaced. */
export const INTERRUPT_GRACE_MS = 2_000;

export interface SqlQuery {
  readonly sql: string;
  readonly format: AnswerFormat;
  readonly maxRows: number;
  /** Reads the Redis tables the query names (the API process reads Redis; the worker cannot). */
  readonly readRedisTables: (names: readonly string[]) => Promise<RedisTableRows>;
}

/** A query's answer: known in full (the worker holds it), its bytes streamed from the worker on demand. */
export interface SqlAnswer {
  readonly columns: readonly AnswerColumn[];
  readonly rowCount: number;
  readonly stats: QueryStats;
  readonly body: Readable;
}

let nextId = 1;

/** A worker's reply, or the refusal it says. */
function expect<K extends FromWorker['kind']>(reply: FromWorker, kind: K): Extract<FromWorker, { kind: K }> {
  if (reply.kind === 'refused') throw new SqlRefusal(reply.statusCode as SqlRefusal['statusCode'], reply.error, reply.parameter);
  if (reply.kind !== kind) throw new SqlRefusal(500, `the SQL worker answered ${reply.kind} where ${kind} was due`);
  return reply as Extract<FromWorker, { kind: K }>;
}

/**
 * Runs analysts' queries on the pool's workers, each within `timeoutMs` once it has a worker
 * (waiting for one has the same limit, then 503): past it the worker is told to interrupt the query (408), and a worker that has not
 * answered {@link INTERRUPT_GRACE_MS} later is killed (the pool starts another). The answer is
 * then streamed from the worker piece by piece as the client reads it; a client that reads
 * nothing for `timeoutMs` loses the answer and frees the worker.
 */
export class SqlQueries {
  constructor(
    private readonly pool: SqlWorkerPool,
    private readonly timeoutMs: number,
  ) {}

  async run(query: SqlQuery): Promise<SqlAnswer> {
    // Waiting for a worker (or starting one: a process and its DuckDB, seconds on a loaded
    // host) has a limit of its own; the query's time limit starts once it has a worker.
    const worker = await this.pool.acquire(Date.now() + this.timeoutMs);
    const deadline = Date.now() + this.timeoutMs;
    const id = nextId++;
    const release = once(() => {
      worker.tell({ kind: 'release', id });
      this.pool.release(worker);
    });
    const watch = this.watch(worker, id, deadline);
    try {
      const checked = expect(await worker.ask({ kind: 'check', id, sql: query.sql }), 'checked');
      const redisRows = await query.readRedisTables(checked.redisTables);
      if (watch.timedOut()) throw new SqlRefusal(408, 'timed out before the query ran');
      const answer = expect(await worker.ask({ kind: 'run', id, format: query.format, maxRows: query.maxRows, redisRows }), 'answer');
      watch.stop();
      return { columns: answer.columns, rowCount: answer.rowCount, stats: answer.stats, body: this.body(worker, id, release) };
    } catch (err) {
      watch.stop();
      release();
      // A verdict of the query's own (a refusal, out of memory) that came after the deadline is
      // still its answer; the time limit is the answer when the query was stopped by it.
      const ownVerdict = err instanceof SqlRefusal && err.statusCode !== 408;
      throw watch.timedOut() && !ownVerdict ? new SqlRefusal(408, `the query ran past the time limit of ${this.timeoutMs} ms and was ${watch.killed() ? 'stopped with its worker (replaced)' : 'interrupted'}`) : err;
    }
  }

  /** Interrupts the query at the deadline; kills its worker if it has not answered after the grace. */
  private watch(worker: SqlWorkerProcess, id: number, deadline: number) {
    let timedOut = false;
    let killed = false;
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      worker.tell({ kind: 'interrupt', id });
      grace = setTimeout(() => {
        killed = true;
        worker.kill();
      }, INTERRUPT_GRACE_MS);
    }, Math.max(0, deadline - Date.now()));
    return {
      stop: () => {
        clearTimeout(timer);
        clearTimeout(grace);
      },
      timedOut: () => timedOut,
      killed: () => killed,
    };
  }

  /** The answer's bytes, asked of the worker one piece per read; the worker is given back at the end. */
  private body(worker: SqlWorkerProcess, id: number, release: () => void): Readable {
    let idle: NodeJS.Timeout | undefined;
    let asking: Promise<unknown> | undefined;
    const stream = new Readable({
      read: () => {
        clearTimeout(idle);
        asking = worker.ask({ kind: 'next', id }).then(
          (reply) => {
            if (reply.kind === 'piece') {
              stream.push(Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength));
              idle = setTimeout(() => stream.destroy(new Error('the client read nothing for too long')), this.timeoutMs);
            } else if (reply.kind === 'end') {
              release();
              stream.push(null);
            } else stream.destroy(new Error(`the SQL worker answered ${reply.kind} where a piece was due`));
          },
          (err: unknown) => stream.destroy(err instanceof Error ? err : new Error(String(err))),
        );
      },
      destroy: (err, callback) => {
        clearTimeout(idle);
        // The worker is given back once it has answered what it was asked.
        void (asking ?? Promise.resolve()).finally(release);
        callback(err);
      },
    });
    return stream;
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
