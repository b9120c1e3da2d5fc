// Shared by the root scripts (start, test, bench): set-up steps and child processes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { build } from './build.mjs';

export const root = path.resolve(new URL('..', import.meta.url).pathname);

/** npm deps, the build (one incremental `tsc -b`), then Redis, Kafka and the topics. */
export async function setUp({ log = console.error } = {}) {
  build({ log });
  const { infraUp } = await import('../infra/up.mjs');
  return infraUp({ log });
}

/** Runs a command to completion with inherited output; resolves with its exit code. */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', ...options });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
