import { Identity } from './identity.js';
import { pageId } from './element-ids.js';
import { randomId } from './storage.js';
import type { TrackerSettings } from './settings.js';
import { Transport, type TrackedEvent } from './transport.js';

/** Fields the tracker sets itself; `track` props cannot replace them. */
const OWN_FIELDS = ['event_id', 'user_id', 'ts', 'received_at', 'ip', 'user_agent'];

/** The running tracker: who the visitor is, the page view in progress, and the way out. */
export class Tracker {
  readonly identity = new Identity();
  readonly transport: Transport;
  /** Called when a page view ends (navigation, SPA route change, pagehide): open funnels close. */
  readonly onPageEnd: (() => void)[] = [];
  /** Called when a page view starts (also SPA route changes). */
  readonly onPageStart: (() => void)[] = [];
  private page = '';
  private url = '';

  constructor(readonly settings: TrackerSettings) {
    const site = settings.siteKey ? `?site=${encodeURIComponent(settings.siteKey)}` : '';
    this.transport = new Transport({ url: `${settings.collector}/v1/events${site}`, flushMs: settings.flushMs, batchSize: settings.batchSize, maxQueue: settings.maxQueue });
  }

  /** The page id of the page view in progress. */
  pageId(): string {
    return this.page;
  }

  /** Queues one event of `type` with the tracker's own fields. */
  send(type: string, fields: Record<string, unknown>): void {
    const event: TrackedEvent = { ...fields, type, event_id: `${Date.now().toString(36)}-${randomId()}`, user_id: this.identity.userId(), ts: Date.now() };
    this.transport.push(event);
  }

  /** `window.sigflow.track`: a custom event (e.g. a conversion with a value); page_id defaults to the page's. */
  track(type: string, props?: Record<string, unknown>): void {
    const fields: Record<string, unknown> = {};
    for (const k in props || {}) if (OWN_FIELDS.indexOf(k) < 0 && k !== 'type') fields[k] = (props as Record<string, unknown>)[k];
    if (fields['page_id'] === undefined && type !== 'impression' && type !== 'click') fields['page_id'] = this.page;
    this.send(type, fields);
  }

  /**
   * Starts a page view when the URL changed (first load, SPA navigation) or when `again` (back
   * from the back/forward cache); ends the previous one.
   */
  pageView(again = false): void {
    const url = location.href.split('#')[0] as string;
    if (url === this.url && !again) return;
    if (this.url) this.endPage();
    this.url = url;
    this.page = pageId();
    const attrs: Record<string, string> = { url: url.slice(0, 512) };
    if (document.referrer) attrs['referrer'] = document.referrer.slice(0, 512);
    this.send('page_view', { page_id: this.page, attrs });
    for (const f of this.onPageStart) f();
  }

  /** Ends the page view in progress (its open form funnels are abandoned). */
  endPage(): void {
    for (const f of this.onPageEnd) f();
  }
}
