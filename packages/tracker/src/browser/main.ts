import { captureClicks, captureForms, captureMouse } from './capture-interactions.js';
import { capturePage } from './capture-page.js';
import { Identity } from './identity.js';
import { inOverlayFrame, serveOverlay } from './overlay.js';
import { browserAsksNotToTrack, readSettings } from './settings.js';
import { Tracker } from './tracker.js';

/** `window.sigflow`: what a site calls. */
interface SigflowApi {
  track(type: string, props?: Record<string, unknown>): void;
  identify(userId: string): void;
  optOut(): void;
  optIn(): void;
  /** Sends what is queued now. */
  flush(): void;
  readonly tracking: boolean;
}

function start(script: HTMLScriptElement | null): Tracker {
  const tracker = new Tracker(readSettings(script));
  captureClicks(tracker);
  captureForms(tracker);
  captureMouse(tracker);
  capturePage(tracker);
  addEventListener('pagehide', () => {
    tracker.endPage();
    tracker.transport.flushOnHide();
  });
  addEventListener('pageshow', (e) => {
    // Back from the back/forward cache: a new page view of the same URL.
    if ((e as PageTransitionEvent).persisted) tracker.pageView(true);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') tracker.transport.flushOnHide();
  });
  tracker.pageView();
  return tracker;
}

(function install() {
  const w = window as Window & { sigflow?: SigflowApi };
  if (w.sigflow) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const settings = readSettings(script);
  const overlay = inOverlayFrame();
  if (overlay) serveOverlay();
  let tracker: Tracker | null = null;
  const begin = () => {
    if (!tracker && !overlay && !Identity.optedOut() && !(settings.respectDnt && browserAsksNotToTrack())) tracker = start(script);
  };
  w.sigflow = {
    track: (type, props) => tracker?.track(type, props),
    identify: (userId) => tracker?.identity.identify(userId),
    optOut: () => {
      Identity.setOptOut(true);
      tracker?.transport.stop();
      tracker = null;
    },
    optIn: () => {
      Identity.setOptOut(false);
      begin();
    },
    flush: () => tracker?.transport.flush(),
    get tracking() {
      return tracker !== null;
    },
  };
  begin();
})();
