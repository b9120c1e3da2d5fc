import type { Tracker } from './tracker.js';

const MILESTONES = [25, 50, 75, 100];

/**
 * Page views, SPA navigations (history.pushState / replaceState, popstate) and scroll depth:
 * each of 25/50/75/100 % once per page view, when the bottom of the viewport first reaches it.
 */
export function capturePage(tracker: Tracker): void {
  let reached = 0;
  let pending = false;
  const measure = (): void => {
    pending = false;
    const doc = document.documentElement;
    const height = Math.max(doc.scrollHeight, document.body ? document.body.scrollHeight : 0);
    if (height <= 0) return;
    const depth = ((window.scrollY + window.innerHeight) / height) * 100;
    for (const m of MILESTONES) {
      if (m > reached && depth >= m - 0.5) {
        reached = m;
        tracker.send('scroll', { page_id: tracker.pageId(), depth: m });
      }
    }
  };
  const onScroll = (): void => {
    if (pending) return;
    pending = true;
    setTimeout(measure, 100);
  };
  tracker.onPageStart.push(() => {
    reached = 0;
    onScroll();
  });
  const navigated = (): void => {
    setTimeout(() => tracker.pageView(), 0);
  };
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      navigated();
      return result;
    };
  }
  addEventListener('popstate', navigated);
  addEventListener('scroll', onScroll, { passive: true });
  addEventListener('resize', onScroll, { passive: true });
}
