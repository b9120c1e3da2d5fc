import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { waitForTrue } from './wait-until.js';

/** The pids of a process's children (Linux /proc); none when it is gone. */
export function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server run as a `node:cluster` primary with its workers, as a test starts it. */
export interface ServerClusterUnderTest {
  /** The running primary and the promise of its exit code. */
  current(): { readonly primary: ChildProcess; readonly exited: Promise<number | null> };
  /** Starts a new primary (and its workers) and waits until it serves. */
  start(): Promise<void>;
  readonly workers: number;
}

/**
 * A server cluster's lifecycle: SIGTERM ends the primary with exit code 0 and its workers with
 * it; restarted, a primary killed with -9 leaves no worker behind. Throws naming what failed.
 */
export async function checkClusterLifecycle(cluster: ServerClusterUnderTest): Promise<void> {
  let { primary, exited } = cluster.current();
  let workers = childPids(primary.pid as number);
  primary.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`the primary exited with ${code} on SIGTERM, not 0`);
  await waitForTrue('the workers to exit', () => workers.every((pid) => !isAlive(pid)), 15_000, 100);

  await cluster.start();
  ({ primary, exited } = cluster.current());
  workers = childPids(primary.pid as number);
  if (workers.length !== cluster.workers) throw new Error(`the restarted primary runs ${workers.length} workers, not ${cluster.workers}`);
  primary.kill('SIGKILL');
  await exited;
  await waitForTrue('the orphaned workers to exit', () => workers.every((pid) => !isAlive(pid)), 15_000, 100);
}
