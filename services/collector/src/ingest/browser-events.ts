import { eventTypes, touchpointTypes, type RejectedEvent } from '@sigflow/events';
import type { Caller } from './caller.js';

/** Event types a site key may send: every type but the touchpoints (ad events need a server key). */
export const siteEventTypes: ReadonlySet<string> = new Set(eventTypes.filter((t) => !(touchpointTypes as readonly string[]).includes(t)));

/** What the request itself says about its sender (never taken from the body of untrusted callers). */
export interface RequestOrigin {
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** The `Origin` header (browsers send it with every POST), if any. */
  readonly origin?: string | undefined;
}

/** Ids are at most this long (the event contract); a longer header is cut, not refused. */
const MAX_USER_AGENT = 1_024;

/** The client address as events carry it (IPv4-mapped IPv6 as plain IPv4). */
export function clientIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * Prepares the events of a site or browser request for validation: each object gets `ip` and
 * `user_agent` from the request (whatever the body said), and for a site key `attrs.site` =
 * the key's site. Events a site key may not send (ad events, another site's) are rejected here,
 * with their index; the rest go through the contract like any event.
 */
export function stampUntrusted(
  values: readonly unknown[],
  caller: Exclude<Caller, { kind: 'server' }>,
  from: RequestOrigin,
): { readonly values: unknown[]; readonly indexes: number[]; readonly rejected: RejectedEvent[] } {
  const out: unknown[] = [];
  const indexes: number[] = [];
  const rejected: RejectedEvent[] = [];
  values.forEach((value, index) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.push(value);
      indexes.push(index);
      return;
    }
    const event = { ...(value as Record<string, unknown>) };
    const problem = (caller.kind === 'site' ? siteProblem(event, caller.site) : null) ?? urlProblem(event, from.origin);
    if (problem !== null) {
      rejected.push({ index, code: 'forbidden', reason: problem });
      return;
    }
    event['ip'] = from.ip;
    if (from.userAgent) event['user_agent'] = from.userAgent.slice(0, MAX_USER_AGENT);
    else delete event['user_agent'];
    out.push(event);
    indexes.push(index);
  });
  return { values: out, indexes, rejected };
}

/**
 * A page view from a browser names the page it was on (`attrs.url`, which the dashboard's
 * heatmap shows): it must be on the origin the request came from.
 */
export function urlProblem(event: Record<string, unknown>, origin: string | undefined): string | null {
  const attrs = event['attrs'];
  if (origin === undefined || event['type'] !== 'page_view' || typeof attrs !== 'object' || attrs === null) return null;
  const url = (attrs as Record<string, unknown>)['url'];
  if (typeof url !== 'string') return null;
  let urlOrigin: string;
  try {
    urlOrigin = new URL(url).origin;
  } catch {
    return 'attrs.url is not a URL';
  }
  return urlOrigin === origin ? null : `attrs.url is on ${urlOrigin}, not on the request's origin ${origin}`;
}

/** Why a site key may not send this event, or null; stamps `attrs.site` when it may. */
function siteProblem(event: Record<string, unknown>, site: string): string | null {
  const type = event['type'];
  if (typeof type === 'string' && !siteEventTypes.has(type)) {
    return `a site key cannot send ${type} events (they need a server key in x-api-key); it sends ${[...siteEventTypes].join(', ')}`;
  }
  const attrs = event['attrs'];
  if (attrs === undefined) {
    event['attrs'] = { site };
    return null;
  }
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return null;
  const claimed = (attrs as Record<string, unknown>)['site'];
  if (claimed !== undefined && claimed !== site) return `attrs.site is ${JSON.stringify(claimed)}, but this site key is for site "${site}"`;
  event['attrs'] = { ...(attrs as Record<string, unknown>), site };
  return null;
}
