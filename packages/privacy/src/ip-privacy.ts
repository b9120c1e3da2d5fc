import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** How the collector stores client addresses (`SIGFLOW_PRIVACY_IP_MODE`). */
export type IpMode = 'full' | 'truncated';

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail becomes the last two). */
function ipv6Groups(ip: string): number[] {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -(v4[1] as string).length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * An address with its host part zeroed: the last octet of an IPv4 address (`a.b.c.0`), the
 * last 80 bits of an IPv6 one (the first 48 kept, written in compressed form, `2001:db8:1::`).
 * Null for a value that is not an IP address (the contract allows any printable string): such
 * a value is not kept at all in truncated mode.
 */
export function truncateIp(ip: string): string | null {
  if (isIPv4(ip)) return ip.slice(0, ip.lastIndexOf('.')) + '.0';
  if (!isIPv6(ip)) return null;
  const [a, b, c] = ipv6Groups(ip.replace(/%.*$/, '')) as [number, number, number];
  return `${a.toString(16)}:${b.toString(16)}:${c.toString(16)}::`;
}

/**
 * The flood rule's key of a full address in truncated mode: an HMAC-SHA256 keyed with the
 * privacy salt (base64url). Equal addresses give equal keys, so the per-IP flood rule counts
 * exactly as on full addresses, while the stored events keep no full address.
 */
export function ipKey(salt: string, ip: string): string {
  return createHmac('sha256', salt).update(ip).digest('base64url');
}
