import { locate, pageId } from './element-ids.js';

/** The name the dashboard gives its heatmap frame: a page loaded in it is shown, not tracked. */
export const OVERLAY_FRAME_NAME = 'sigflow-heatmap';

/** Whether this page is shown in the dashboard's heatmap frame (then nothing is captured). */
export function inOverlayFrame(): boolean {
  return window.name === OVERLAY_FRAME_NAME && window.parent !== window;
}

interface LocateRequest {
  readonly sigflow: 'locate';
  readonly ids: readonly string[];
}

/** The page's size and where the named elements are, in document coordinates. */
function layout(ids: readonly string[]) {
  const doc = document.documentElement;
  const rects: ([string, number, number, number, number] | [string])[] = [];
  for (const id of ids.slice(0, 500)) {
    const el = typeof id === 'string' ? locate(id) : null;
    if (!el) {
      rects.push([String(id)]);
      continue;
    }
    const r = el.getBoundingClientRect();
    rects.push([id, Math.round(r.left + window.scrollX), Math.round(r.top + window.scrollY), Math.round(r.width), Math.round(r.height)]);
  }
  return { sigflow: 'layout', page_id: pageId(), width: doc.scrollWidth, height: Math.max(doc.scrollHeight, document.body ? document.body.scrollHeight : 0), rects };
}

/**
 * Answers the dashboard's heatmap frame: the parent asks `{sigflow: 'locate', ids}` and gets
 * the page's size and each element's box (the tracker names elements, so only it can find them
 * again, also across origins). Only the parent window is answered, and only with geometry.
 */
export function serveOverlay(): void {
  // The last question, answered again when the page is laid out anew (the frame resized, a late
  // font or image): the boxes the dashboard drew would no longer sit on their elements.
  let asked: { ids: readonly string[]; origin: string } | null = null;
  addEventListener('message', (e: MessageEvent) => {
    const data = e.data as LocateRequest | null;
    if (e.source !== window.parent || !data || data.sigflow !== 'locate' || !Array.isArray(data.ids)) return;
    asked = { ids: data.ids, origin: e.origin === 'null' ? '*' : e.origin };
    window.parent.postMessage(layout(asked.ids), asked.origin);
  });
  addEventListener('resize', () => {
    if (asked) window.parent.postMessage(layout(asked.ids), asked.origin);
  });
  const announce = () => window.parent.postMessage(layout([]), '*');
  if (document.readyState === 'complete') announce();
  else addEventListener('load', announce);
}
