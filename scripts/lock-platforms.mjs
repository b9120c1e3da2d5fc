// Records every platform's optional binaries of turbo in package-lock.json.
//
// npm writes a lock with only the optional packages its registry serves; the registry this
// project is built against serves turbo's Linux binaries only, and `npm ci` then refuses the
// lock ("Missing: @turbo/darwin-64 from lock file"). Run this after any `npm install` that
// rewrites the lock: it adds the missing entries with their os/cpu, which npm ci skips on
// other platforms and fetches by version where they apply. Node builtins only.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const lockPath = path.join(root, 'package-lock.json');
const platforms = {
  'darwin-64': ['darwin', 'x64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'linux-64': ['linux', 'x64'],
  'linux-arm64': ['linux', 'arm64'],
  'windows-64': ['win32', 'x64'],
  'windows-arm64': ['win32', 'arm64'],
};

/** Adds missing `@turbo/<platform>` entries; returns the names it added. */
export function recordTurboPlatforms(lock) {
  const turbo = lock.packages['node_modules/turbo'];
  if (!turbo) return [];
  const added = [];
  for (const [name, [os, cpu]] of Object.entries(platforms)) {
    const key = `node_modules/@turbo/${name}`;
    if (lock.packages[key] || !turbo.optionalDependencies?.[`@turbo/${name}`]) continue;
    lock.packages[key] = { version: turbo.version, cpu: [cpu], dev: true, license: 'MIT', optional: true, os: [os] };
    added.push(key);
  }
  const sorted = {};
  for (const key of Object.keys(lock.packages).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en')))) {
    sorted[key] = lock.packages[key];
  }
  lock.packages = sorted;
  return added;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
  const added = recordTurboPlatforms(lock);
  fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(added.length ? `recorded ${added.join(', ')}` : 'lock already records every platform');
}
