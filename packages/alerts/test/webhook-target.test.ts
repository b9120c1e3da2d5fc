import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allowListOf, checkWebhookTarget, signDelivery, WebhookTargetError, type Resolve } from '../src/index.js';

/** A resolver for names of this test (the system resolver is not asked). */
const names: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'localhost.example': ['127.0.0.1'],
  'rebind.example': ['93.184.216.34', '10.0.0.7'],
  'metadata.example': ['169.254.169.254'],
};
const resolve: Resolve = async (host) => {
  const list = names[host];
  if (!list) throw new Error(`ENOTFOUND ${host}`);
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const none = allowListOf([]);

async function refusal(url: string, allow = none): Promise<string> {
  try {
    await checkWebhookTarget(url, allow, resolve);
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookTargetError);
    return (err as Error).message;
  }
  throw new Error(`${url} was accepted`);
}

describe('webhook targets', () => {
  it('accepts http(s) to public addresses, every address checked', async () => {
    const t = await checkWebhookTarget('https://hooks.example.com/sigflow?x=1', none, resolve);
    expect(t.addresses.map((a) => a.address)).toEqual(names['hooks.example.com']);
    expect((await checkWebhookTarget('http://93.184.216.34:8080/h', none, resolve)).addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('refuses other schemes and credentials', async () => {
    expect(await refusal('file:///etc/passwd')).toMatch(/scheme file: is not allowed/);
    expect(await refusal('gopher://hooks.example.com/')).toMatch(/scheme gopher:/);
    expect(await refusal('javascript:alert(1)')).toMatch(/scheme javascript:/);
    expect(await refusal('https://user:secret@hooks.example.com/')).toMatch(/credentials/);
    expect(await refusal('https://token@hooks.example.com/')).toMatch(/credentials/);
    expect(await refusal('/relative')).toMatch(/not an absolute URL/);
  });

  it('refuses loopback, private, link-local and reserved addresses however written', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://2130706433/', // 127.0.0.1 as one number
      'http://0x7f.1/', // and in hex
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/', // 169.254.169.254 mapped
      'http://10.1.2.3/',
      'http://172.31.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
      'http://localhost.example/',
      'http://metadata.example/latest/meta-data',
    ]) {
      expect(await refusal(url), url).toMatch(/private, loopback, link-local or reserved/);
    }
  });

  it('refuses a name with any private address among public ones (it could connect to either)', async () => {
    expect(await refusal('https://rebind.example/')).toMatch(/10\.0\.0\.7/);
  });

  it('refuses names that do not resolve', async () => {
    expect(await refusal('https://nowhere.invalid/')).toMatch(/does not resolve/);
  });

  it('allows the ranges of the allow-list, and only those', async () => {
    const loopback = allowListOf(['127.0.0.0/8', '::1']);
    expect((await checkWebhookTarget('http://127.0.0.1:9999/h', loopback, resolve)).url.port).toBe('9999');
    expect((await checkWebhookTarget('http://[::1]/', loopback, resolve)).addresses).toHaveLength(1);
    expect(await refusal('http://10.0.0.1/', loopback)).toMatch(/private/);
    expect(() => allowListOf(['not-a-range'])).toThrow(WebhookTargetError);
    expect(() => allowListOf(['10.0.0.0/33'])).toThrow(/not an address range/);
  });
});

describe('delivery signatures', () => {
  it('sha256= HMAC-SHA256 with the secret over "timestamp.body"', () => {
    const body = '{"kind":"alert.fired"}';
    const expected = createHmac('sha256', 'top-secret').update(`1700000000000.${body}`).digest('hex');
    expect(signDelivery('top-secret', 1_700_000_000_000, body)).toBe(`sha256=${expected}`);
    expect(signDelivery('other', 1_700_000_000_000, body)).not.toBe(`sha256=${expected}`);
  });
});
