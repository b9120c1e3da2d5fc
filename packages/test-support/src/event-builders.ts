import type { ReceivedEvent } from '@sigflow/events';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
export const GOOGLEBOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** Fields every built event has; the rest default (user `u1`, a Chrome user agent). */
export interface CommonFields {
  id: string;
  ts: number;
  user?: string;
  ip?: string;
  ua?: string;
  received_at?: number;
}

export type TouchFields = CommonFields & { ad?: string; campaign?: string; channel?: string; cost?: number };

/** How a suite's events arrive: `received_at` this long after `ts`, conversions in this currency. */
export interface BuilderDefaults {
  readonly receivedAfterMs?: number;
  readonly currency?: string;
}

/** Builders of received events, terse enough for hand-computed cases. */
export interface EventBuilders {
  impression(o: TouchFields): ReceivedEvent;
  click(o: TouchFields): ReceivedEvent;
  conversion(o: CommonFields & { value?: number }): ReceivedEvent;
  elementClick(o: CommonFields & { page: string; element: string }): ReceivedEvent;
  pageView(o: CommonFields & { page: string }): ReceivedEvent;
}

/** Event builders with a suite's defaults (see {@link BuilderDefaults}). */
export function eventBuilders(defaults: BuilderDefaults = {}): EventBuilders {
  const common = (o: CommonFields) => ({
    event_id: o.id,
    user_id: o.user ?? 'u1',
    ts: o.ts,
    received_at: o.received_at ?? o.ts + (defaults.receivedAfterMs ?? 0),
    user_agent: o.ua ?? CHROME_UA,
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
  });
  const touch = (o: TouchFields) => ({
    campaign_id: o.campaign ?? 'c1',
    ad_id: o.ad ?? 'a1',
    channel: o.channel ?? 'search',
    ...(o.cost !== undefined ? { cost: o.cost } : {}),
  });
  return {
    impression: (o) => ({ ...common(o), type: 'impression', ...touch(o) }),
    click: (o) => ({ ...common(o), type: 'click', ...touch(o) }),
    conversion: (o) => ({
      ...common(o),
      type: 'conversion',
      ...(o.value !== undefined ? { value: o.value, ...(defaults.currency ? { currency: defaults.currency } : {}) } : {}),
    }),
    elementClick: (o) => ({ ...common(o), type: 'element_click', page_id: o.page, element_id: o.element }),
    pageView: (o) => ({ ...common(o), type: 'page_view', page_id: o.page }),
  };
}
