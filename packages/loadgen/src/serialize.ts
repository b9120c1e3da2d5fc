import type { SigflowEvent } from '@sigflow/events';

/**
 * Serializes a generated event to JSON, several times faster than `JSON.stringify`, with
 * the same output for the events the generator makes: fields in the same order, and
 * strings that need no escaping (ids, catalogue names, fixed user agents). Anything else
 * (an unknown type, a string with a quote, backslash or control character) goes to
 * `JSON.stringify`.
 */
export function serializeEvent(e: SigflowEvent): string {
  if (!plain(e.event_id) || !plain(e.user_id) || !plain(e.ip) || !plain(e.user_agent)) return JSON.stringify(e);
  const head = `{"event_id":"${e.event_id}","type":"${e.type}","user_id":"${e.user_id}","ts":${e.ts},"ip":"${e.ip}","user_agent":"${e.user_agent}"`;
  const keys = Object.keys(e).length;
  switch (e.type) {
    case 'impression':
    case 'click':
      if (keys !== (e.cost === undefined ? 10 : 11) || !plain(e.campaign_id) || !plain(e.ad_id) || !plain(e.channel) || !plain(e.placement)) break;
      return `${head},"campaign_id":"${e.campaign_id}","ad_id":"${e.ad_id}","channel":"${e.channel}","placement":"${e.placement}"${e.cost === undefined ? '' : `,"cost":${e.cost}`}}`;
    case 'page_view':
      if (keys !== 7 || !plain(e.page_id)) break;
      return `${head},"page_id":"${e.page_id}"}`;
    case 'scroll':
      if (keys !== 8 || !plain(e.page_id)) break;
      return `${head},"page_id":"${e.page_id}","depth":${e.depth}}`;
    case 'element_click':
      if (keys !== 8 || !plain(e.page_id) || !plain(e.element_id)) break;
      return `${head},"page_id":"${e.page_id}","element_id":"${e.element_id}"}`;
    case 'mouse_move':
      if (keys !== 9 || !plain(e.page_id)) break;
      return `${head},"page_id":"${e.page_id}","x":${e.x},"y":${e.y}}`;
    case 'form_interaction':
      if (keys !== 9 || !plain(e.page_id) || !plain(e.form_id) || !plain(e.action)) break;
      return `${head},"page_id":"${e.page_id}","form_id":"${e.form_id}","action":"${e.action}"}`;
    case 'link_follow':
      if (keys !== 8 || !plain(e.page_id) || !plain(e.href)) break;
      return `${head},"page_id":"${e.page_id}","href":"${e.href}"}`;
    case 'conversion':
      if (keys !== 9 || !plain(e.page_id) || !plain(e.currency) || !Number.isFinite(e.value)) break;
      return `${head},"page_id":"${e.page_id}","value":${e.value},"currency":"${e.currency}"}`;
    default:
      break;
  }
  return JSON.stringify(e);
}

const safe = new Map<string, boolean>();

/** A string JSON writes as is: no quote, backslash, control or non-ASCII character. */
export function plain(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value.length > 24) {
    // Long strings repeat (user agents, hrefs): remember the answer.
    const known = safe.get(value);
    if (known !== undefined) return known;
    const ok = scan(value);
    if (safe.size < 10_000) safe.set(value, ok);
    return ok;
  }
  return scan(value);
}

function scan(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return false;
  }
  return true;
}
