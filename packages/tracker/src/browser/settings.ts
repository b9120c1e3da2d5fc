/** How the embedding page configured the tracker (attributes of its `<script>` tag). */
export interface TrackerSettings {
  /** Base URL of the collector (`data-collector`; default: the origin the script came from). */
  readonly collector: string;
  /** The site's public key (`data-site`), sent as `?site=` so beacons (no headers) carry it. */
  readonly siteKey: string;
  /** `data-respect-dnt`: no tracking at all when the browser asks for it (DNT or GPC). */
  readonly respectDnt: boolean;
  /** `data-flush-ms` (default 3000): queued events are sent at least this often. */
  readonly flushMs: number;
  /** `data-batch-size` (default 40): a batch is sent as soon as this many events wait. */
  readonly batchSize: number;
  /** `data-max-queue` (default 500): events kept while the collector is unreachable; the oldest go first. */
  readonly maxQueue: number;
  /** `data-mouse-sample` (default 1): share of page views that record mouse moves. */
  readonly mouseSample: number;
  /** `data-mouse-ms` (default 250): at most one mouse move per this many ms. */
  readonly mouseMs: number;
  /** `data-mouse-max` (default 400): mouse moves recorded per page view at most. */
  readonly mouseMax: number;
}

function numberAttr(script: Element | null, name: string, fallback: number, min: number, max: number): number {
  const raw = script?.getAttribute(name);
  const n = raw === null || raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

/** Reads the settings from the tracker's own script tag. */
export function readSettings(script: HTMLScriptElement | null): TrackerSettings {
  const src = script?.src ? new URL(script.src, location.href) : null;
  const collector = (script?.getAttribute('data-collector') || (src ? src.origin : location.origin)).replace(/\/+$/, '');
  const dnt = script?.getAttribute('data-respect-dnt');
  return {
    collector,
    siteKey: script?.getAttribute('data-site') || '',
    respectDnt: dnt !== null && dnt !== undefined && dnt !== 'false',
    flushMs: numberAttr(script, 'data-flush-ms', 3_000, 200, 600_000),
    batchSize: numberAttr(script, 'data-batch-size', 40, 1, 500),
    maxQueue: numberAttr(script, 'data-max-queue', 500, 10, 5_000),
    mouseSample: numberAttr(script, 'data-mouse-sample', 1, 0, 1),
    mouseMs: numberAttr(script, 'data-mouse-ms', 250, 20, 60_000),
    mouseMax: numberAttr(script, 'data-mouse-max', 400, 0, 10_000),
  };
}

/** Whether the browser asks not to be tracked (Do Not Track or Global Privacy Control). */
export function browserAsksNotToTrack(): boolean {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean; msDoNotTrack?: string };
  const win = window as Window & { doNotTrack?: string };
  return nav.doNotTrack === '1' || nav.doNotTrack === 'yes' || win.doNotTrack === '1' || nav.msDoNotTrack === '1' || nav.globalPrivacyControl === true;
}
