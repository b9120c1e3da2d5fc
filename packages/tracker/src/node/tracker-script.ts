import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { TrackerScriptMissingError } from './errors.js';

/** The built tracker as a server sends it. */
export interface TrackerScript {
  /** The script (minified JavaScript). */
  readonly body: Buffer;
  /** The same, gzip-compressed (level 9), for clients that accept gzip. */
  readonly gzip: Buffer;
  /** Strong ETag of the script's bytes (quoted). */
  readonly etag: string;
}

// The package's dist/sigflow.js, from dist/node (built) and src/node (tests) alike.
const scriptUrl = new URL('../../dist/sigflow.js', import.meta.url);

/** Reads the built `dist/sigflow.js` once; throws {@link TrackerScriptMissingError} when it was not built. */
export function loadTrackerScript(): TrackerScript {
  let body: Buffer;
  try {
    body = readFileSync(scriptUrl);
  } catch (cause) {
    throw new TrackerScriptMissingError(`the tracker script ${scriptUrl.pathname} is missing: run the build of @sigflow/tracker`, { cause });
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, gzip: gzipSync(body, { level: 9 }), etag };
}
