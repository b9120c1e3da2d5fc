// The release before the current code, as CHANGELOG.md names it, checked out and built in a
// worktree of its commit under var/releases/ (built once, kept for the next run).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../support/services.js';

export interface Release {
  readonly version: string;
  readonly commit: string;
}

/** The newest release CHANGELOG.md names (`## v0.x.y (date, commit)`), its tag's commit. */
export function previousRelease(): Release {
  const text = fs.readFileSync(path.join(repoRoot, 'CHANGELOG.md'), 'utf8');
  const m = /^## (v\d+\.\d+\.\d+) \(\d{4}-\d\d-\d\d, ([0-9a-f]{40})\)$/m.exec(text);
  if (!m) throw new Error('CHANGELOG.md names no release ("## v0.x.y (date, commit)")');
  return { version: m[1]!, commit: m[2]! };
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A built checkout of `release` (its dependencies installed, its services built); its path. */
export function releaseCheckout(release: Release): string {
  const dir = path.join(repoRoot, 'var/releases', release.version);
  const stamp = path.join(dir, '.sigflow-built');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === release.commit) return dir;
  try {
    git('cat-file', '-e', `${release.commit}^{commit}`);
  } catch {
    throw new Error(`${release.version}'s commit ${release.commit} is not in this clone (a shallow one?): git fetch --unshallow, or fetch the tag ${release.version}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  git('worktree', 'prune');
  git('worktree', 'add', '--force', '--detach', dir, release.commit);
  // Its own install and build, on this runtime (both releases are on Node 24).
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  fs.writeFileSync(stamp, release.commit);
  return dir;
}
