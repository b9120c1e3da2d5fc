/**
 * A job's data cannot be run (an unknown kind, missing or malformed fields, an empty or
 * inverted range). The worker fails such a job at once, without retries: running it again
 * cannot succeed. The API answers 400 and the CLI exits 2 before enqueueing it.
 */
export class InvalidJobDataError extends Error {
  override readonly name = 'InvalidJobDataError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
