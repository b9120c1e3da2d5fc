// Installs npm dependencies when they are missing or older than package-lock.json.
// Node builtins only: it runs on a fresh clone before anything is installed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(new URL('..', import.meta.url).pathname);

export function ensureDeps({ log = console.error } = {}) {
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules/.package-lock.json');
  const fresh =
    fs.existsSync(installed) && fs.existsSync(lock) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return false;
  log('installing npm dependencies (npm ci)...');
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  } catch {
    // npm 11 here writes locks without the other platforms' optional packages (turbo's
    // darwin/windows binaries) and then refuses `npm ci` on them; `npm install` honours the
    // same lock and installs the same versions.
    log('npm ci refused the lock; installing with npm install instead...');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  }
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) ensureDeps();
