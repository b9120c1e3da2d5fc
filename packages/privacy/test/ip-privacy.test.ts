import { describe, expect, it } from 'vitest';
import { ipKey, privatizeIp, tombstoneHash, truncateIp } from '../src/index.js';

describe('IP truncation', () => {
  it('zeroes the last IPv4 octet', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0');
    expect(truncateIp('10.1.2.0')).toBe('10.1.2.0');
  });

  it('keeps the first 48 bits of an IPv6 address (the last 80 zeroed)', () => {
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(truncateIp('::1')).toBe('0:0:0::');
    expect(truncateIp('::ffff:192.0.2.128')).toBe('0:0:0::');
    expect(truncateIp('fe80::1%eth0')).toBe('fe80:0:0::');
  });

  it('refuses what is not an address', () => {
    expect(truncateIp('not-an-ip')).toBeNull();
    expect(truncateIp('999.1.1.1')).toBeNull();
  });

  it('truncated mode stores the truncated address and a keyed hash of the full one', () => {
    const a = privatizeIp('truncated', 'salt', '203.0.113.77');
    const b = privatizeIp('truncated', 'salt', '203.0.113.78');
    expect(a?.ip).toBe('203.0.113.0');
    expect(b?.ip).toBe('203.0.113.0');
    // Same /24, different hosts: the flood rule must still tell them apart.
    expect(a?.ip_key).not.toBe(b?.ip_key);
    expect(privatizeIp('truncated', 'salt', '203.0.113.77')?.ip_key).toBe(a?.ip_key);
    expect(privatizeIp('truncated', 'other salt', '203.0.113.77')?.ip_key).not.toBe(a?.ip_key);
    expect(privatizeIp('truncated', 'salt', 'garbage')).toEqual({ ip_key: ipKey('salt', 'garbage') });
    expect(privatizeIp('full', 'salt', '203.0.113.77')).toBeNull();
    expect(privatizeIp('truncated', 'salt', undefined)).toBeNull();
  });
});

describe('tombstone hash', () => {
  it('is sha256 of salt, tab and id in hex (checked against a value computed by hand with sha256sum)', () => {
    // printf 'salt\tuser-1' | sha256sum
    expect(tombstoneHash('salt', 'user-1')).toBe('0b457165a9683eda55a1d3fa9020113fa39073e2419824322549b73e5e6d1b8b');
  });
});
