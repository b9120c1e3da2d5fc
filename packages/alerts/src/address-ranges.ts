import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { WebhookTargetError } from './errors.js';

/**
 * Ranges no webhook may reach unless allowed: this host, private networks, link-local (cloud
 * metadata at 169.254.169.254), carrier-grade NAT, benchmarking, multicast and reserved space.
 */
const blockedRanges: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
];

const blocked = new BlockList();
for (const [address, prefix, type] of blockedRanges) blocked.addSubnet(address, prefix, type);

/** An IPv4 address carried in an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, compatible ::a.b.c.d), else null. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1] as string;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const hi = parseInt(hex[1] as string, 16);
  const lo = parseInt(hex[2] as string, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Parses `a.b.c.d/n` or `x::/n` into a BlockList of allowed ranges; throws naming a bad entry. */
export function allowListOf(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [address, bits] = range.split('/') as [string, string | undefined];
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    if (type === null || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) {
      throw new WebhookTargetError(`allow-list entry ${JSON.stringify(range)} is not an address range (a.b.c.d/n or x::/n)`);
    }
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/**
 * Why a webhook may not reach `address` (a blocked range outside the allow-list), or null when it
 * may. IPv4 addresses embedded in IPv6 ones are judged as IPv4.
 */
export function blockedAddressReason(address: string, allow: BlockList): string | null {
  const v4 = isIPv6(address) ? embeddedIpv4(address) : null;
  const [ip, type] = v4 !== null ? [v4, 'ipv4' as const] : [address, isIPv4(address) ? ('ipv4' as const) : ('ipv6' as const)];
  if (allow.check(ip, type)) return null;
  return blocked.check(ip, type) ? `${address} is in a private, loopback, link-local or reserved range (allow it with SIGFLOW_ALERTS_WEBHOOK_ALLOW)` : null;
}
