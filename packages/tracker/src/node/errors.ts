/** The built tracker script (dist/sigflow.js) is not there. */
export class TrackerScriptMissingError extends Error {
  override readonly name = 'TrackerScriptMissingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The demo site could not start (its page is missing or its port is taken). */
export class DemoSiteError extends Error {
  override readonly name = 'DemoSiteError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
