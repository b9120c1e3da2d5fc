/**
 * How the tracker names pages and elements (DESIGN.md, "Web tracker"): an element is named by
 * its `data-sigflow-id`, else its `id`, else a stable CSS path; a page by `data-sigflow-page`
 * on `<html>`, else its path. The heatmap overlay finds elements back by the same names.
 */

/** Ids are 1-128 characters without control characters (the event contract). */
const MAX_ID = 128;

function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '');
}

/** The page id of the current document. */
export function pageId(): string {
  const named = clean(document.documentElement.getAttribute('data-sigflow-page') || '');
  return (named || clean(location.pathname) || '/').slice(0, MAX_ID);
}

/** `tag` or `tag:nth-of-type(n)` among its siblings of the same tag. */
function step(el: Element): string {
  const tag = el.localName;
  let index = 0;
  let same = 0;
  for (let s = el.parentElement ? el.parentElement.firstElementChild : null; s; s = s.nextElementSibling) {
    if (s.localName === tag) {
      same++;
      if (s === el) index = same;
    }
  }
  return same > 1 ? `${tag}:nth-of-type(${index})` : tag;
}

/**
 * A CSS path from the nearest ancestor with a plain id (or from `body`) down to `el`, e.g.
 * `#pricing>div:nth-of-type(2)>button`. Over 128 characters, the leading steps are dropped.
 */
export function cssPath(el: Element): string {
  const steps: string[] = [];
  for (let e: Element | null = el; e && e !== document.documentElement; e = e.parentElement) {
    const id = e.getAttribute('id');
    if (e !== el && id && /^[A-Za-z][\w-]*$/.test(id)) {
      steps.unshift(`#${id}`);
      break;
    }
    steps.unshift(step(e));
  }
  while (steps.length > 1 && steps.join('>').length > MAX_ID) steps.shift();
  return steps.join('>').slice(0, MAX_ID);
}

/** The name of an element: `data-sigflow-id`, else `id`, else its CSS path. */
export function elementId(el: Element): string {
  const named = clean(el.getAttribute('data-sigflow-id') || el.getAttribute('id') || '');
  return named ? named.slice(0, MAX_ID) : cssPath(el);
}

const clickable = '[data-sigflow-id],a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=tab]';

/** The element a click counts for: the nearest named or interactive ancestor, else the target. */
export function clickedElement(target: Element): Element {
  return target.closest(clickable) || target;
}

/** The element named `id` in this document, or null (the overlay's lookup). */
export function locate(id: string): Element | null {
  const esc = typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(id) : id.replace(/["\\]/g, '\\$&');
  const byData = document.querySelector(`[data-sigflow-id="${esc}"]`);
  if (byData) return byData;
  const byId = document.getElementById(id);
  if (byId) return byId;
  const form = document.querySelector(`form[name="${esc}"]`);
  if (form) return form;
  try {
    return document.querySelector(id);
  } catch {
    return null;
  }
}
