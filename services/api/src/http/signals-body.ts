/** The route's `limit` of signals: when the query gives none, and the most it may ask. */
export const signalsLimit = { default: 100, max: 1000 } as const;

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/**
 * The signals answer as bytes: the stored JSON of each signal is copied in as it came from
 * Redis (no decode, parse, serialize or encode of any signal; one copy into the reply). The
 * route and its fast path both answer with it.
 */
export function signalsBody(userId: string, signals: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`{"userId":${JSON.stringify(userId)},"count":${signals.length},"signals":[`)];
  signals.forEach((s, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(s);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
