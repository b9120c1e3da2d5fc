import fs from 'node:fs';
import os from 'node:os';
import type { Logger } from '@sigflow/observability';

/** This process's threads (Linux: /proc/self/task); elsewhere the process itself (0). */
function ownThreads(): number[] {
  try {
    return fs.readdirSync('/proc/self/task').map(Number);
  } catch {
    return [0];
  }
}

/**
 * Lowers this process's CPU priority to `nice` (`SIGFLOW_BATCH_NICE`) before it opens DuckDB or
 * starts its worker processes. Linux keeps a priority per thread and a new thread or process
 * takes its creator's, so every thread running now is lowered (libuv's pool among them, where
 * DuckDB is opened and starts its own threads), and the forked workers inherit it. Never raises
 * a priority (that takes privileges); a refusal is logged, not fatal.
 */
export function lowerCpuPriority(nice: number, logger: Logger): void {
  if (nice <= 0) return;
  let lowered = 0;
  try {
    for (const thread of ownThreads()) {
      if (os.getPriority(thread) >= nice) continue;
      os.setPriority(thread, nice);
      lowered++;
    }
  } catch (err) {
    logger.warn({ err, nice }, 'could not lower the CPU priority (SIGFLOW_BATCH_NICE); running at the current one');
    return;
  }
  if (lowered > 0) logger.info({ nice, threads: lowered }, 'running at a lower CPU priority (SIGFLOW_BATCH_NICE): the speed layer comes first on a shared machine');
}
