// The Node.js runtime sigflow runs on: the version in .nvmrc (an LTS line). Imported first by
// every root entry script (start, test, build, bench, reliability, cluster, infra). On a
// machine whose `node` is of another line, it brings the pinned runtime from the npm registry
// (the `node-<platform>-<arch>` package, with `npm pack`, so the user's registry settings
// apply; nothing is downloaded from anywhere else) into .cache/node/, then runs the same
// script again with it, with that runtime first on PATH: `npm ci`, the builds, every service,
// test and benchmark then run on it. After `npm ci` the runtime is also linked as
// node_modules/.bin/node, which npm puts first on PATH for every `npm run` script.
// Node builtins only, and syntax Node 18 reads: it runs before anything is installed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(new URL('..', import.meta.url).pathname);

/** The pinned version, from .nvmrc (one place: nvm, fnm, CI and this file read it). */
export const pinnedVersion = fs.readFileSync(path.join(root, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
const [pinnedMajor] = pinnedVersion.split('.').map(Number);
/** The first release of the LTS line this project accepts from the machine as it is. */
const OLDEST_ACCEPTED = [pinnedMajor, 11, 0];

/** Whether `version` ("v24.21.0") is of the pinned line, at or after its first LTS release. */
export function acceptedRuntime(version) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  if (parts[0] !== pinnedMajor) return false;
  for (let i = 1; i < 3; i++) if (parts[i] !== OLDEST_ACCEPTED[i]) return parts[i] > OLDEST_ACCEPTED[i];
  return true;
}

/** Where the pinned runtime lives once brought: .cache/node/v<version>/bin/node. */
export const pinnedRuntimeDir = path.join(root, '.cache/node', `v${pinnedVersion}`);
const pinnedNode = path.join(pinnedRuntimeDir, 'bin/node');

/** The registry package of this platform's runtime (the names Node's npm binaries use). */
function runtimePackage() {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  return `node-${platform}-${process.arch}@${pinnedVersion}`;
}

function refuse(why) {
  console.error(
    `sigflow runs on Node.js ${pinnedMajor} (LTS; ${pinnedVersion} tested), and this machine's node is ${process.version}. ${why}\n` +
      `Install Node.js ${pinnedVersion} (for example \`nvm install\` in this folder, which reads .nvmrc) and run the command again.`,
  );
  process.exit(1);
}

/** Brings the pinned runtime into .cache/node through npm (once); returns its node binary. */
function bringPinnedRuntime() {
  if (fs.existsSync(pinnedNode)) return pinnedNode;
  const pkg = runtimePackage();
  console.error(`[runtime] fetching ${pkg} from the npm registry into .cache/node (once, about 50 MB)...`);
  const staging = `${pinnedRuntimeDir}.partial-${process.pid}`;
  fs.mkdirSync(staging, { recursive: true });
  try {
    const tarball = execFileSync('npm', ['pack', pkg, '--pack-destination', staging, '--silent'], { cwd: staging, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['-xzf', path.join(staging, tarball), '-C', staging, '--strip-components=1']);
    fs.rmSync(path.join(staging, tarball));
    const version = execFileSync(path.join(staging, 'bin/node'), ['--version'], { encoding: 'utf8' }).trim();
    if (version !== `v${pinnedVersion}`) throw new Error(`${pkg} holds node ${version}`);
    fs.renameSync(staging, pinnedRuntimeDir);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    refuse(`Bringing ${pkg} from the npm registry failed: ${err.message.split('\n')[0]}.`);
  }
  return pinnedNode;
}

/**
 * Links the pinned runtime as node_modules/.bin/node (when this process runs on it, brought
 * because the machine's own node is not accepted), so that `npm run <script>` typed in a shell whose node is older runs on it too.
 */
export function linkPinnedRuntime() {
  const bin = path.join(root, 'node_modules/.bin');
  if (process.execPath !== pinnedNode || !fs.existsSync(bin)) return;
  const link = path.join(bin, 'node');
  if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() && fs.readlinkSync(link) === pinnedNode) return;
  fs.rmSync(link, { force: true });
  fs.symlinkSync(pinnedNode, link);
}

/** Runs this process's script again on `node`, forwarding signals; exits with its code. */
function runAgainOn(node) {
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`, SIGFLOW_RUNTIME_RERUN: '1' };
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0)));
  return new Promise(() => {});
}

/**
 * Returns when this process already runs on an accepted runtime; otherwise never (the script
 * runs again on the pinned one and this process exits with its code). SIGFLOW_RUNTIME=current
 * keeps the machine's node (the runtime A/B of `bench`), at the caller's risk.
 */
export async function ensureRuntime() {
  if (acceptedRuntime(process.version) || process.env.SIGFLOW_RUNTIME === 'current') return;
  if (process.env.SIGFLOW_RUNTIME_RERUN) refuse('The pinned runtime did not start as expected.');
  await runAgainOn(bringPinnedRuntime());
}

await ensureRuntime();
