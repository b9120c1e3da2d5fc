// Installs npm dependencies when they are missing or older than package-lock.json.
// Node builtins only: it runs on a fresh clone before anything is installed, on the pinned
// runtime (scripts/runtime.mjs), so that npm checks every package's engines against it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { linkPinnedRuntime } from './runtime.mjs';

const root = path.resolve(new URL('..', import.meta.url).pathname);

export function ensureDeps({ log = console.error } = {}) {
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules/.package-lock.json');
  const fresh =
    fs.existsSync(installed) && fs.existsSync(lock) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) {
    linkPinnedRuntime();
    return false;
  }
  log('installing npm dependencies (npm ci)...');
  // npm ci only: it installs exactly the lock or fails. The lock records every platform's
  // optional packages (turbo's darwin/windows binaries too, see scripts/lock-platforms.mjs),
  // so it is accepted on every host.
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  linkPinnedRuntime();
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) ensureDeps();
