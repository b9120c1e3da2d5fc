/**
 * Polls `read` every `everyMs` until `done` holds of its value, and returns that value; after
 * `timeoutMs` throws with what it waited for and the last value read.
 */
export async function waitUntil<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Polls `check` until it returns true; throws after `timeoutMs` naming what it waited for. */
export async function waitForTrue(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  await waitUntil(what, check, (ok) => ok, timeoutMs, everyMs);
}
