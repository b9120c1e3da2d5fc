// The alerts service's error classes.

/** A webhook answered something other than 2xx (or nothing): the attempt failed, BullMQ retries it. */
export class DeliveryFailedError extends Error {
  override readonly name = 'DeliveryFailedError';

  constructor(
    message: string,
    /** The HTTP status of the answer; null when there was none (timeout, refused connection). */
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
