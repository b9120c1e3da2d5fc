import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { removeWorkerFiles } from './worker-files.js';
import type { SandboxSettings } from './sandbox-duckdb.js';
import type { FromWorker, ToWorker } from './sql-messages.js';

/**
 * The worker's entry: the compiled `sql-worker.js` beside this file (under `dist/`; when this
 * module runs from `src/` under a test runner, the built one).
 */
function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? here.replace(/[/\\]src[/\\]sql[/\\][^/\\]+\.ts$/, '/dist/sql/sql-worker.js') : here.replace(/worker-process\.js$/, 'sql-worker.js');
}

/** A worker process's end: it exited (code or signal) or could not start. */
export class WorkerGoneError extends Error {
  override readonly name = 'WorkerGoneError';
}

/**
 * One SQL worker process as the API process sees it: forked with an empty environment (no key,
 * no password reaches it) and no Node flags of the API's, started with its sandbox settings,
 * and asked one thing at a time ({@link ask}: the next message it sends is the answer).
 */
export class SqlWorkerProcess {
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private exited: WorkerGoneError | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromWorker) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(message);
    });
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) removeWorkerFiles(child.pid);
      this.exited = new WorkerGoneError(`the SQL worker ${child.pid} exited (${signal ?? `code ${code}`})`);
      this.pending?.reject(this.exited);
      this.pending = undefined;
    });
    child.on('error', () => undefined);
  }

  /** Forks a worker and waits until its sandbox is open. */
  static async start(settings: SandboxSettings): Promise<SqlWorkerProcess> {
    const child = fork(workerEntry(), [], { env: {}, execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const worker = new SqlWorkerProcess(child);
    const started = await worker.ask({ kind: 'init', settings });
    if (started.kind !== 'started') throw new WorkerGoneError(`the SQL worker did not start: ${JSON.stringify(started)}`);
    return worker;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Sends a message and resolves with the worker's next one; rejects when the worker exits first. */
  ask(message: ToWorker): Promise<FromWorker> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.pending) return Promise.reject(new Error('the SQL worker is already answering'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(message);
    });
  }

  /** Sends a message that has no answer (interrupt, release). */
  tell(message: ToWorker): void {
    if (!this.exited && this.child.connected) this.child.send(message);
  }

  /** Kills the process (SIGKILL: a query that does not stop is not asked twice). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Resolves when the process has exited. */
  async gone(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
  }
}
