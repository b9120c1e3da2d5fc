// A SQL worker process: one sandboxed DuckDB (sandbox-duckdb.ts) running analysts' queries one
// at a time for the API process that forked it, which it talks to over IPC (sql-messages.ts).
// It holds no secret (its environment is empty, it opens no connection) and reads only the
// archive's folders. It exits when the API process goes.
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { answerPieces, type CollectedAnswer } from './formats/answer-pieces.js';
import { collectAnswer } from './collect-answer.js';
import { invalidatesDatabase, refusalOf } from './duckdb-errors.js';
import { emptyRedisTables, loadRedisTables } from './redis-table-rows.js';
import { openSandbox, type Sandbox } from './sandbox-duckdb.js';
import { redisTablesOf } from './sql-catalogue.js';
import type { FromWorker, ToWorker } from './sql-messages.js';
import { checkStatement, prepareSelect } from './statement-check.js';

interface Query {
  readonly id: number;
  readonly sql: string;
  redisTables: readonly string[];
  /** While DuckDB runs it (an interrupt at any other time could hit the next query). */
  running?: boolean;
  pieces?: AsyncGenerator<Buffer>;
}

let sandbox: Sandbox | undefined;
let current: Query | undefined;

const send = (message: FromWorker, sent: () => void = () => undefined) => process.send?.(message, undefined, undefined, () => sent());

/** Answers the query with its refusal; a worker whose database the error invalidated exits once it is sent. */
function refuse(id: number, err: unknown): void {
  const refusal = refusalOf(err);
  const replace = invalidatesDatabase(err);
  send({ kind: 'refused', id, statusCode: refusal.statusCode, error: refusal.message, ...(refusal.parameter ? { parameter: refusal.parameter } : {}), replace }, () => {
    if (replace) process.exit(3);
  });
}

async function check(s: Sandbox, id: number, sql: string): Promise<void> {
  current = { id, sql, redisTables: [] };
  await s.views.refresh(s.conn);
  current.redisTables = redisTablesOf(await checkStatement(s.conn, sql));
  send({ kind: 'checked', id, redisTables: current.redisTables });
}

async function run(s: Sandbox, message: Extract<ToWorker, { kind: 'run' }>, query: Query): Promise<void> {
  await loadRedisTables(s.conn, message.redisRows);
  const prepared: DuckDBPreparedStatement = await prepareSelect(s.conn, query.sql);
  let answer: CollectedAnswer;
  query.running = true;
  try {
    answer = await collectAnswer(prepared, message.maxRows, s.profileFile);
  } finally {
    query.running = false;
    prepared.destroySync();
  }
  query.pieces = answerPieces(answer, message.format);
  send({ kind: 'answer', id: query.id, columns: answer.columns.map((c) => ({ name: c.name, type: c.type })), rowCount: answer.rowCount, stats: answer.stats });
}

async function next(query: Query): Promise<void> {
  const piece = await query.pieces?.next();
  if (!piece || piece.done) send({ kind: 'end', id: query.id });
  else send({ kind: 'piece', id: query.id, bytes: piece.value });
}

async function release(s: Sandbox, query: Query): Promise<void> {
  current = undefined;
  await emptyRedisTables(s.conn, query.redisTables);
}

/** One message, in arrival order (the chain below); a failure is the query's answer. */
async function handle(message: ToWorker): Promise<void> {
  if (message.kind === 'init') {
    sandbox = await openSandbox(message.settings);
    send({ kind: 'started' });
    return;
  }
  const s = sandbox;
  if (!s) throw new Error('the worker has no sandbox yet');
  const query = current?.id === message.id ? current : undefined;
  try {
    if (message.kind === 'check') await check(s, message.id, message.sql);
    else if (message.kind === 'release') await (query ? release(s, query) : undefined);
    else if (!query) throw new Error(`no query ${message.id} here`);
    else if (message.kind === 'run') await run(s, message, query);
    else await next(query);
  } catch (err) {
    refuse(message.id, err);
  }
}

let chain: Promise<void> = Promise.resolve();
process.on('message', (message: ToWorker) => {
  // An interrupt cannot wait behind the query it interrupts.
  if (message.kind === 'interrupt') {
    if (current?.id === message.id && current.running) sandbox?.conn.interrupt();
    return;
  }
  chain = chain.then(() => handle(message)).catch((err: unknown) => {
    process.stderr.write(`sql worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => {
  sandbox?.close();
  process.exit(0);
});
