import { ipKey, truncateIp, type IpMode } from './ip-privacy.js';

/**
 * What the collector stores of an event's address in `mode`: `full` keeps it as sent (the flood
 * rule reads `ip`); `truncated` stores the truncated address (none when the value is no IP
 * address) plus `ip_key`, the keyed hash of the full one that the flood rule reads instead.
 * Null: nothing to change (full mode, or no address).
 */
export function privatizeIp(mode: IpMode, salt: string, ip: string | undefined): { ip?: string; ip_key: string } | null {
  if (mode === 'full' || ip === undefined) return null;
  const truncated = truncateIp(ip);
  return truncated === null ? { ip_key: ipKey(salt, ip) } : { ip: truncated, ip_key: ipKey(salt, ip) };
}
