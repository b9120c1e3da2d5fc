// bench:recovery (issue 18): recovery from crashes, failovers and deploys with the shipped
// settings. Writes bench/results/recovery.json with speed.restartVisibleMs / replacedVisibleMs /
// gracefulVisibleMs, archiver.restartCommittedMs and batch.killedJobResumedMs.
// Targets: restart < 3 s, replaced < 12 s, graceful < 1 s, killed batch job resumed < 15 s.
import { archiverRecovery } from './recovery-archiver.mjs';
import { batchRecovery } from './recovery-batch.mjs';
import { speedRecovery } from './recovery-speed.mjs';
import { load } from './lib.mjs';

export async function run() {
  const loadBefore = load();
  const speed = await speedRecovery();
  const archiver = await archiverRecovery();
  const batch = await batchRecovery();
  return { loadBefore, loadAfter: load(), speed, archiver, batch };
}
