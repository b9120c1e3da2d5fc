import { clickedElement, cssPath, elementId } from './element-ids.js';
import type { Tracker } from './tracker.js';

/** Element clicks (heatmap) and, for links to another document, link follows. */
export function captureClicks(tracker: Tracker): void {
  addEventListener(
    'click',
    (e) => {
      const target = e.target;
      if (!(target instanceof Element)) return;
      const el = clickedElement(target);
      tracker.send('element_click', { page_id: tracker.pageId(), element_id: elementId(el) });
      const link = target.closest('a[href]') as HTMLAnchorElement | null;
      if (!link || !/^https?:$/.test(link.protocol)) return;
      const here = location.href.split('#')[0];
      if (link.href.split('#')[0] === here) return;
      tracker.send('link_follow', { page_id: tracker.pageId(), href: link.href.slice(0, 2048) });
    },
    true,
  );
}

/** The form a field belongs to, and its name (`data-sigflow-id`, `id`, `name`, CSS path). */
function formOf(target: EventTarget | null): HTMLFormElement | null {
  if (!(target instanceof Element)) return null;
  return target instanceof HTMLFormElement ? target : (target.closest('form') as HTMLFormElement | null);
}

function formId(form: HTMLFormElement): string {
  const name = form.getAttribute('data-sigflow-id') || form.getAttribute('id') || form.getAttribute('name');
  return name ? name.slice(0, 128) : cssPath(form);
}

/**
 * Form funnels: `focus` when a form is first entered, `input` at its first change, `submit`,
 * and `abandon` when the page view ends with the form entered but not submitted. Field values
 * and text are never read.
 */
export function captureForms(tracker: Tracker): void {
  /** Forms entered in this page view -> whether an input was reported. */
  let open = new Map<HTMLFormElement, boolean>();
  const send = (form: HTMLFormElement, action: string) => tracker.send('form_interaction', { page_id: tracker.pageId(), form_id: formId(form), action });
  addEventListener(
    'focusin',
    (e) => {
      const form = formOf(e.target);
      if (!form || open.has(form)) return;
      open.set(form, false);
      send(form, 'focus');
    },
    true,
  );
  addEventListener(
    'input',
    (e) => {
      const form = formOf(e.target);
      if (!form || open.get(form) !== false) return;
      open.set(form, true);
      send(form, 'input');
    },
    true,
  );
  addEventListener(
    'submit',
    (e) => {
      const form = formOf(e.target);
      if (!form) return;
      open.delete(form);
      send(form, 'submit');
    },
    true,
  );
  tracker.onPageEnd.push(() => {
    for (const form of open.keys()) send(form, 'abandon');
    open = new Map();
  });
}

/** Mouse moves in document coordinates: a sampled share of page views, throttled, capped per page view. */
export function captureMouse(tracker: Tracker): void {
  const { mouseSample, mouseMs, mouseMax } = tracker.settings;
  let last = 0;
  let count = 0;
  let sampled = false;
  tracker.onPageStart.push(() => {
    count = 0;
    sampled = Math.random() < mouseSample;
  });
  addEventListener(
    'mousemove',
    (e) => {
      const now = Date.now();
      if (!sampled || count >= mouseMax || now - last < mouseMs) return;
      last = now;
      count++;
      tracker.send('mouse_move', { page_id: tracker.pageId(), x: Math.max(0, Math.round(e.pageX)), y: Math.max(0, Math.round(e.pageY)) });
    },
    { passive: true },
  );
}
