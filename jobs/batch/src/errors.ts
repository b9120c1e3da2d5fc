/** Reading the archive with DuckDB failed (missing or corrupt files, out of memory). */
export class ArchiveScanError extends Error {
  override readonly name = 'ArchiveScanError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /**
   * Whether DuckDB found a listed file gone: a compaction or an erasure replaced it between the
   * listing and the read (on a local archive the merged file is renamed in, then the inputs go).
   * Listing again finds the replacement.
   */
  get fileGone(): boolean {
    return /No files found that match the pattern|Cannot open file/.test(String((this.cause as Error | undefined)?.message));
  }
}

/** A rule thread of a recompute pass crashed or exited (the job fails and is retried). */
export class RuleThreadError extends Error {
  override readonly name = 'RuleThreadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A part of a fanned-out recompute failed for good (after its own attempts): its parent fails
 * with the part's hours and reason, without retries of its own (the part had them).
 */
export class RecomputePartError extends Error {
  override readonly name = 'RecomputePartError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Reading touchpoint verdict files failed (a newer version of their hour switched in and pruned
 * them while they were read): the pass reads its context from the archive instead.
 */
export class VerdictReadError extends Error {
  override readonly name = 'VerdictReadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A queued job stopped between two passes because its worker lost the job's lock: the lock had
 * expired (a starved process could not renew it in time) and another worker holds the job now.
 */
export class JobStoppedError extends Error {
  override readonly name = 'JobStoppedError';
}

/** Throws {@link JobStoppedError} once `signal` is aborted (the worker's signal for the job). */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new JobStoppedError(`job stopped before its next pass: ${String(signal.reason)}`);
}
