import type { CollectorConfig } from '@sigflow/config';
import { apiKeyMatches } from './api-key.js';

/**
 * Who sent an ingest request, which decides what its events may say:
 * - `server`: a server key (`x-api-key`), or, on a collector without server keys, a request
 *   that is not from a browser (no `Origin`): trusted with `ip` and `user_agent` as sent;
 * - `site`: a site key (`?site=` or `x-site-key`): web events and conversions of its site only;
 * - `browser`: a browser request (with `Origin`) and no key, on a collector without server keys.
 * Site and browser requests get `ip` and `user_agent` from the request, never from the body.
 */
export type Caller = { readonly kind: 'server' } | { readonly kind: 'site'; readonly site: string } | { readonly kind: 'browser' };

export type CallerCheck = { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly reason: string };

/** Identifies the caller from its keys and origin; a key that is not known is refused (401). */
export function identifyCaller(
  config: Pick<CollectorConfig, 'apiKeys' | 'siteKeys'>,
  presented: { readonly serverKey?: string | undefined; readonly siteKey?: string | undefined; readonly origin?: string | undefined },
): CallerCheck {
  if (presented.serverKey !== undefined) {
    if (config.apiKeys.length > 0 && apiKeyMatches(presented.serverKey, config.apiKeys)) return { ok: true, caller: { kind: 'server' } };
    return { ok: false, reason: 'unknown API key (header x-api-key)' };
  }
  if (presented.siteKey !== undefined) {
    const site = siteOf(config.siteKeys, presented.siteKey);
    return site === undefined ? { ok: false, reason: 'unknown site key (?site= or header x-site-key)' } : { ok: true, caller: { kind: 'site', site } };
  }
  if (config.apiKeys.length > 0) return { ok: false, reason: 'missing API key: send a server key in x-api-key or a site key as ?site=' };
  return { ok: true, caller: presented.origin === undefined ? { kind: 'server' } : { kind: 'browser' } };
}

/** The site of a key, compared in constant time against every configured key. */
export function siteOf(siteKeys: ReadonlyMap<string, string>, presented: string): string | undefined {
  let found: string | undefined;
  for (const [key, site] of siteKeys) if (apiKeyMatches(presented, [key])) found = site;
  return found;
}
