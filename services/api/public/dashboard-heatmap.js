// sigflow dashboard, the on-page heatmap: a page over a time range, shown as itself (a
// sandboxed frame of the URL its tracker reported) with each clicked element outlined and
// labelled with its click share and rank ("4.0 % #2"), a mouse-move density layer, the scroll
// reach drawn at 25/50/75/100 % of the page's height, and the form funnels. The framed page's
// own tracker (sigflow.js) sees it is in the heatmap frame: it records nothing and tells this
// page where its elements are (postMessage), so the overlay also works across origins.
// Uses dashboard.js's helpers (api, el, fmt, $, clear).
'use strict';
/* global $, api, clear, el, fmt -- dashboard.js's helpers, called once it has loaded */
/* exported heatmapOverlayPanel, installHeatmapPanel -- called by dashboard.js */

const FRAME_NAME = 'sigflow-heatmap';
const STAGE_WIDTH = 1100;
const RANGES = { '15m': 15 * 60000, '1h': 3600000, '24h': 24 * 3600000, '7d': 7 * 24 * 3600000 };

/** What the overlay shows now; the frame's layout answers are drawn against it. */
const overlay = { url: null, data: null, layout: null, drawn: '' };

/** [from, to) of the panel: the from/to inputs when filled (epoch ms or ISO), else the preset up to now. */
function heatmapRange() {
  const parse = (text) => (text ? (/^\d+$/.test(text) ? Number(text) : Date.parse(text)) : NaN);
  const to = parse($('hm-to').value.trim());
  const from = parse($('hm-from').value.trim());
  const end = Number.isFinite(to) ? to : Date.now();
  return { from: Number.isFinite(from) ? from : end - RANGES[$('hm-range').value], to: end };
}

/** The page URL to frame, or why not: only http(s), never this dashboard's own origin. */
function frameableUrl(url) {
  if (!url) return { url: null, why: 'no page view of this page reported its URL yet' };
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return { url: null, why: 'the reported URL is not a URL' };
  }
  if (!/^https?:$/.test(parsed.protocol)) return { url: null, why: 'the reported URL is not http(s)' };
  if (parsed.origin === location.origin) return { url: null, why: "the reported URL is on the dashboard's own origin: not framed" };
  return { url: parsed.href, why: null };
}

/** Shows `url` in the heatmap frame (a new frame when it changed). */
function showPage(url, why) {
  const stage = $('hm-stage');
  const frame = $('hm-frame');
  if (frame && frame.dataset.url === url) return;
  // A new frame: the overlay drawn over the old one goes, and is "drawn" again only over this one.
  overlay.layout = null;
  overlay.drawn = '';
  clear($('hm-layer'));
  $('heatmap-overlay').dataset.state = 'loading';
  if (frame) frame.remove();
  $('hm-page-note').textContent = url ? `showing ${url}` : why;
  if (!url) return;
  const f = el('iframe', { id: 'hm-frame', name: FRAME_NAME, sandbox: 'allow-scripts allow-same-origin', referrerpolicy: 'no-referrer', title: 'the page, as its tracker reported it', 'data-url': url });
  f.style.width = `${STAGE_WIDTH}px`;
  f.style.height = '800px';
  f.src = url;
  stage.prepend(f);
}

/** Asks the framed page where the clicked elements and forms are (once its tracker said it is there). */
function askLayout() {
  const frame = $('hm-frame');
  if (!frame || !frame.contentWindow || !overlay.data || frame.dataset.ready !== 'yes') return;
  const ids = [...overlay.data.heatmap.elements.map((e) => e.elementId), ...overlay.data.forms.forms.map((f) => f.formId)];
  frame.contentWindow.postMessage({ sigflow: 'locate', ids }, new URL(frame.dataset.url).origin);
}

function onFrameMessage(e) {
  const frame = $('hm-frame');
  if (!frame || e.source !== frame.contentWindow || e.origin !== new URL(frame.dataset.url).origin) return;
  const m = e.data;
  if (!m || m.sigflow !== 'layout' || !Number.isFinite(m.height) || !Array.isArray(m.rects)) return;
  frame.dataset.ready = 'yes';
  if (m.rects.length === 0) return askLayout();
  overlay.layout = { width: Math.min(m.width, 10000), height: Math.min(m.height, 50000), rects: new Map(m.rects.filter((r) => r.length === 5).map((r) => [String(r[0]), r.slice(1).map(Number)])) };
  drawOverlay();
}

function box(rect, cls, label, data) {
  const [x, y, w, h] = rect;
  const b = el('div', { class: `hm-box ${cls}`, ...data });
  Object.assign(b.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
  b.append(el('span', { class: 'hm-label' }, label));
  return b;
}

/** The mouse-move density: each grid cell filled by its moves against the densest cell. */
function densityCanvas(grid, width, height) {
  const canvas = el('canvas', { id: 'hm-density', 'data-cells': grid.cells.length });
  // The drawing size itself (el() would set the CSS width instead).
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  for (const c of grid.cells) {
    const a = 0.15 + 0.6 * (c.moves / grid.maxMoves);
    g.fillStyle = `rgba(229, 57, 53, ${a.toFixed(3)})`;
    g.fillRect(c.cellX * grid.gridPx, c.cellY * grid.gridPx, grid.gridPx, grid.gridPx);
  }
  return canvas;
}

function drawOverlay() {
  const { data, layout } = overlay;
  const frame = $('hm-frame');
  // The frame takes the page's height; a layout measured at another height may move with it (a
  // scroll bar gone, a column centred anew), so it is measured again before the overlay says "drawn".
  // So is one measured narrower than the frame is now (a page is at least as wide as its viewport):
  // under load the outlines of the demo page's centred column were once drawn 397 px left of their
  // elements, as from a page laid out at the iframe's default 300 px.
  const settled = !!(frame && layout && frame.style.height === `${layout.height}px` && layout.width >= frame.clientWidth);
  // Redrawn only when something changed (the panel refreshes every few seconds).
  const signature = JSON.stringify([data, layout && [layout.height, [...layout.rects]], $('hm-show-moves').checked]);
  if (signature !== overlay.drawn) {
    overlay.drawn = signature;
    drawLayers(data, layout, frame);
  }
  if (!data || !layout) return;
  if (settled) $('heatmap-overlay').dataset.state = 'drawn';
  else {
    $('heatmap-overlay').dataset.state = 'measuring';
    askLayout();
  }
}

/** The overlay's layers for `data` over the framed page's `layout`; the frame takes the page's height. */
function drawLayers(data, layout, frame) {
  const layer = $('hm-layer');
  clear(layer);
  if (!data || !layout) return;
  frame.style.height = `${layout.height}px`;
  Object.assign(layer.style, { width: `${STAGE_WIDTH}px`, height: `${layout.height}px` });
  if ($('hm-show-moves').checked) layer.append(densityCanvas(data.moves, STAGE_WIDTH, layout.height));
  for (const r of data.scroll.depths) {
    const line = el('div', { class: 'hm-depth', 'data-depth': r.depth });
    line.style.top = `${Math.min(layout.height - 2, (layout.height * r.depth) / 100)}px`;
    line.append(el('span', { class: 'hm-label' }, `${r.depth} % of the page: ${r.share === null ? '–' : fmt.pct(r.share, 0)} of views`));
    layer.append(line);
  }
  for (const f of data.forms.forms) {
    const rect = layout.rects.get(f.formId);
    if (rect) layer.append(box(rect, 'hm-form', `${f.formId}: ${f.focus} focus · ${f.submit} submit · ${f.abandon} abandon`, { 'data-form-id': f.formId }));
  }
  let drawn = 0;
  for (const e of data.heatmap.elements) {
    const rect = layout.rects.get(e.elementId);
    if (!rect) continue;
    drawn++;
    const label = `${(e.share * 100).toFixed(1)} % #${e.rank}`;
    layer.append(box(rect, 'hm-click', label, { 'data-element-id': e.elementId, 'data-rank': e.rank, 'data-share': e.share, title: `${e.elementId}: ${e.clicks} clicks` }));
  }
  $('heatmap-overlay').dataset.outlined = String(drawn);
}

function scrollTable(scroll) {
  const tbody = $('scroll-reach-table').tBodies[0];
  clear(tbody);
  for (const r of scroll.depths) {
    tbody.append(el('tr', { 'data-depth': r.depth }, el('td', { class: 'num' }, `${r.depth} %`), el('td', { class: 'num' }, fmt.int(r.reached)), el('td', { class: 'num' }, fmt.pct(r.share, 1))));
  }
  $('scroll-reach-views').textContent = `${fmt.int(scroll.pageViews)} page views`;
}

function formTable(forms) {
  const tbody = $('form-funnels-table').tBodies[0];
  clear(tbody);
  for (const f of forms.forms) {
    tbody.append(
      el('tr', { 'data-form-id': f.formId },
        el('td', {}, f.formId),
        ...[f.focus, f.input, f.submit, f.abandon].map((n) => el('td', { class: 'num' }, fmt.int(n))),
        el('td', { class: 'num' }, fmt.pct(f.submitRate, 1)),
        el('td', { class: 'num' }, fmt.pct(f.abandonRate, 1)),
      ),
    );
  }
  if (!forms.forms.length) tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'no form interactions in the range')));
}

/** The panel's refresh: the page's data over the range, then the frame and the overlay. */
async function heatmapOverlayPanel() {
  const page = $('page').value;
  const panel = $('heatmap-overlay');
  if (!page) {
    $('hm-page-note').textContent = 'no pages seen yet';
    return;
  }
  const { from, to } = heatmapRange();
  const path = `/v1/pages/${encodeURIComponent(page)}`;
  const q = `?from=${from}&to=${to}`;
  const [info, heatmap, moves, scroll, forms] = await Promise.all([
    api(path),
    api(`${path}/heatmap${q}`),
    api(`${path}/mouse-moves${q}`),
    api(`${path}/scroll-reach${q}`),
    api(`${path}/form-funnels${q}`),
  ]);
  overlay.data = { heatmap, moves, scroll, forms };
  panel.dataset.page = page;
  $('hm-summary').textContent =
    `${fmt.dateTime(from)} – ${fmt.dateTime(to)} UTC · ${fmt.int(heatmap.totalClicks)} clicks · ${fmt.int(moves.totalMoves)} mouse moves · ` +
    `${fmt.int(scroll.pageViews)} page views · ${heatmap.source}`;
  scrollTable(scroll);
  formTable(forms);
  const target = frameableUrl(info.url);
  showPage(target.url, target.why);
  if (overlay.layout) drawOverlay();
  askLayout();
}

function installHeatmapPanel() {
  window.addEventListener('message', onFrameMessage);
  $('hm-show-moves').addEventListener('change', drawOverlay);
  $('hm-whole-page').addEventListener('change', () => $('hm-stage').classList.toggle('whole', $('hm-whole-page').checked));
  for (const id of ['hm-range', 'hm-from', 'hm-to']) $(id).addEventListener('change', () => heatmapOverlayPanel().catch(() => undefined));
}
