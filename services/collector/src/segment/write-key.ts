/**
 * The write key of a Segment request: the user name of HTTP Basic authentication (the password
 * empty), else the body's `writeKey`. Undefined when the request names none.
 */
export function writeKeyOf(authorization: string | undefined, body: unknown): string | undefined {
  const basic = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    if (user.length > 0) return user;
  }
  const inBody = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['writeKey'] : undefined;
  return typeof inBody === 'string' && inBody.length > 0 ? inBody : undefined;
}
