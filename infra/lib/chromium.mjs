// Debian's Chromium for the browser tests. CI starts from a machine without it; playwright's
// own browser download is refused there, so the test run installs the Debian package (as root).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

async function aptGet(args) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt run (the machine's own upgrade, say) may hold the dpkg lock: wait for it.
  return exec('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { env, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * Installs Chromium when it is missing: first from the package lists already on the machine,
 * then, when that fails, after refreshing them (a stale list names versions the mirror dropped;
 * a fresh one may name a version the mirror has not finished publishing, so one more try).
 * Throws with apt's own output when every try failed.
 */
export async function ensureChromium({ log = console.error } = {}) {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and installing it needs root: run \`apt-get install chromium\` as root, or the tests as root (as CI does)`);
  }
  log('installing Debian chromium for the browser tests (apt-get)...');
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  const failures = [];
  for (const refresh of [false, true, true]) {
    try {
      if (refresh) await aptGet(['update']);
      await aptGet(install);
      if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and installing it needs root: run \`apt-get install chromium\` as root, or the tests as root (as CI does)`);
  }
      failures.push(`apt-get installed chromium but ${CHROMIUM} is missing`);
    } catch (err) {
      failures.push(`${err.message}\n${String(err.stderr ?? '').slice(-2000)}`);
    }
  }
  throw new Error(`could not install chromium:\n${failures.join('\n---\n')}`);
}
