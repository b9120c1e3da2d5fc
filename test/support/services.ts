import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceNodeArgs } from '../../infra/lib/process.mjs';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * The Node flags a service's package.json declares (`sigflow.nodeArgs`), read here apart from
 * the launchers' own reading (`serviceNodeArgs`), so tests can hold them to it. `folder` is the
 * service's folder from the repository root (`services/speed`).
 */
export const declaredNodeArgs = (folder: string): string[] => JSON.parse(fs.readFileSync(path.join(repoRoot, folder, 'package.json'), 'utf8')).sigflow?.nodeArgs ?? [];

/** A platform service run as its own process, as `npm start` runs it. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  readonly log: string;
  /** Started as `node <entry>` without the flags its launchers add (`sigflow.nodeArgs`), as a process manager might. */
  bare = false;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly metricsPort: number,
    /** The checkout the process runs from (an earlier release's worktree in the upgrade test). */
    readonly root = repoRoot,
  ) {
    this.log = path.join(repoRoot, 'var/test-logs', `${name}.log`);
    fs.mkdirSync(path.dirname(this.log), { recursive: true });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How the process ended (`exit code 1`, `signal SIGKILL`), or undefined while it runs or before it started. */
  get ended(): string | undefined {
    if (this.child === undefined || this.running) return undefined;
    return this.child.signalCode !== null ? `signal ${this.child.signalCode}` : `exit code ${this.child.exitCode}`;
  }

  /** Starts the process and resolves once its /healthz answers. */
  async start(): Promise<void> {
    const out = fs.openSync(this.log, 'a');
    this.child = spawn(process.execPath, [...(this.bare ? [] : serviceNodeArgs(this.entry)), path.join(this.root, this.entry)], {
      cwd: this.root,
      env: { ...process.env, SIGFLOW_LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    for (let i = 0; i < 300; i++) {
      if (!this.running) throw new Error(`${this.name} exited during start-up; see ${this.log}`);
      try {
        if ((await fetch(`http://127.0.0.1:${this.metricsPort}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${this.name} did not answer /healthz; see ${this.log}`);
  }

  /** Resolves once /readyz answers 200 (e.g. the consumer joined its group). */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready; see ${this.log}`);
      try {
        if ((await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`)).ok) return;
      } catch {
        // not yet
      }
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms; see ${this.log}`);
  }

  /** kill -9: no shutdown hook runs, whatever the process was doing. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
