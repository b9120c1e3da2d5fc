// Shared by the root scripts (start, test, bench): set-up steps and child processes.
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureDeps } from './ensure-deps.mjs';

export const root = path.resolve(new URL('..', import.meta.url).pathname);

/** npm deps, the build (turbo, cached), then Redis, Kafka and the topics. */
export async function setUp({ log = console.error } = {}) {
  ensureDeps({ log });
  log('building (turbo)...');
  execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
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
