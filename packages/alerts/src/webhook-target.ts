import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { BlockList } from 'node:net';
import { blockedAddressReason } from './address-ranges.js';
import { WebhookTargetError } from './errors.js';

/** An address a host name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address (the system resolver by default). */
export type Resolve = (host: string) => Promise<readonly ResolvedAddress[]>;

const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })) as ResolvedAddress[];

/** A checked webhook target: the URL and the addresses it may be reached at. */
export interface WebhookTarget {
  readonly url: URL;
  readonly addresses: readonly ResolvedAddress[];
}

/** Longest webhook URL accepted. */
export const maxWebhookUrlLength = 2_048;

/** The URL's syntax: http(s), a host, no credentials, no fragment games. Throws {@link WebhookTargetError}. */
export function parseWebhookUrl(text: string): URL {
  if (text.length > maxWebhookUrlLength) throw new WebhookTargetError(`the URL is longer than ${maxWebhookUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookTargetError(`${JSON.stringify(text.slice(0, 80))} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookTargetError(`scheme ${url.protocol} is not allowed (http or https only)`);
  if (url.username !== '' || url.password !== '') throw new WebhookTargetError('credentials in the URL are not allowed (the signature authenticates deliveries)');
  if (url.hostname === '') throw new WebhookTargetError('the URL has no host');
  return url;
}

/**
 * Checks a webhook URL before ops may use it and before every delivery: http(s) only, no
 * credentials, and EVERY address its host resolves to outside the private, loopback,
 * link-local and reserved ranges unless `allow` holds it (a name that resolves to one public
 * and one private address is refused: the connection could take either). Returns the addresses,
 * so the delivery connects to one that was checked (no second resolution to rebind).
 */
export async function checkWebhookTarget(text: string, allow: BlockList, resolve: Resolve = systemResolve): Promise<WebhookTarget> {
  const url = parseWebhookUrl(text);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: readonly ResolvedAddress[];
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (cause) {
      throw new WebhookTargetError(`host ${JSON.stringify(host)} does not resolve`, { cause });
    }
  }
  if (addresses.length === 0) throw new WebhookTargetError(`host ${JSON.stringify(host)} does not resolve`);
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address, allow);
    if (reason) throw new WebhookTargetError(`host ${JSON.stringify(host)}: ${reason}`);
  }
  return { url, addresses };
}
