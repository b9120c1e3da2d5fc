// sigflow dashboard: plain JS, inline SVG charts, no dependencies. The analyst panels live here
// with the helpers; the user panel is dashboard-users.js, the ops panel dashboard-ops.js. It polls the JSON API every
// few seconds with the API key it got from the URL fragment (#key=...) or from a prompt; the
// key stays in this tab's sessionStorage and is sent as x-api-key.
'use strict';
/* global heatmapOverlayPanel, installHeatmapPanel, installOpsPanel, installUserPanel, installSqlPanel, jobsPanel, pacingPanel, recentUsersPanel, segmentsPanel, sqlTablesPanel, alertsPanel -- dashboard-heatmap.js, dashboard-ops.js, dashboard-users.js, dashboard-pacing.js, dashboard-segments.js, dashboard-sql.js (loaded first) */

const REFRESH_MS = Math.max(1000, Number(new URLSearchParams(location.hash.slice(1)).get('refresh') || 5) * 1000);
const HOUR = 3600000;
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#2f6fdb', '#2d9a52', '#d1453b', '#8a4fc7', '#0f9aa8', '#c27c0e', '#5b6475', '#d94f9a'];
const SOURCE_COLORS = { batch: '#e8891c', speed: '#2f6fdb', mixed: '#8a4fc7' };
const $ = (id) => document.getElementById(id);

// ---- the key ----

function takeKey() {
  const params = new URLSearchParams(location.hash.slice(1));
  const fromHash = params.get('key');
  if (fromHash) {
    sessionStorage.setItem('sigflow.key', fromHash);
    params.delete('key');
    // The key leaves the address bar (and the history entry) at once.
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return sessionStorage.getItem('sigflow.key');
}

function askKey(message) {
  const key = window.prompt(message || 'sigflow API key (role analyst or ops):');
  if (key) sessionStorage.setItem('sigflow.key', key.trim());
  return sessionStorage.getItem('sigflow.key');
}

let apiKey = takeKey();

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls a JSON route with the key; `send` (optional) is a JSON body, POSTed. */
async function api(path, send) {
  const headers = apiKey ? { 'x-api-key': apiKey } : {};
  const init = { headers, cache: 'no-store' };
  if (send !== undefined) Object.assign(init, { method: 'POST', body: JSON.stringify(send), headers: { ...headers, 'content-type': 'application/json' } });
  const res = await fetch(path, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.error || res.statusText);
  return body;
}

// ---- small DOM and SVG helpers ----

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'width') node.style.width = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function sourceBadge(source) {
  return el('span', { class: `src src-${source}`, title: `from ${source} views` }, source);
}

const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en')),
  num: (n, d = 2) => (n === null || n === undefined ? '–' : Number(n).toFixed(d)),
  pct: (n, d = 2) => (n === null || n === undefined ? '–' : `${(n * 100).toFixed(d)}%`),
  time: (ms) => new Date(ms).toISOString().slice(11, 16),
  dateTime: (ms) => (ms === null || ms === undefined ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19)),
};

function emptyChart(svg, message) {
  clear(svg);
  const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
  svg.append(svgEl('text', { x: w / 2, y: h / 2, 'text-anchor': 'middle', class: 'empty' }, message));
}

/**
 * A time line chart: series [{name, color, points: [{x, y}]}] over [x0, x1], with the part of
 * the axis at or before `watermark` shaded as batch.
 */
function lineChart(svg, series, { x0, x1, watermark, yFormat }) {
  clear(svg);
  const [, , W, H] = svg.getAttribute('viewBox').split(' ').map(Number);
  const m = { l: 52, r: 24, t: 10, b: 24 };
  const all = series.flatMap((s) => s.points);
  const yMax = Math.max(1e-9, ...all.map((p) => p.y)) * 1.1;
  const sx = (x) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y) => H - m.b - (y / yMax) * (H - m.t - m.b);
  if (watermark !== null && watermark > x0) {
    const wx = sx(Math.min(watermark, x1));
    svg.append(svgEl('rect', { x: m.l, y: m.t, width: wx - m.l, height: H - m.t - m.b, fill: SOURCE_COLORS.batch, 'fill-opacity': 0.1 }));
    svg.append(svgEl('text', { x: m.l + 4, y: m.t + 12 }, 'batch'));
    if (watermark < x1) svg.append(svgEl('text', { x: wx + 4, y: m.t + 12 }, 'speed'));
  }
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 4) * i;
    svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: sy(y), y2: sy(y), class: 'axis' }));
    svg.append(svgEl('text', { x: m.l - 6, y: sy(y) + 4, 'text-anchor': 'end' }, yFormat(y)));
  }
  const step = (x1 - x0) / 6;
  for (let i = 0; i <= 6; i++) {
    const x = x0 + step * i;
    svg.append(svgEl('text', { x: sx(x), y: H - 6, 'text-anchor': 'middle' }, fmt.time(x)));
  }
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    svg.append(svgEl('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 1.8, class: 'series', 'data-name': s.name }));
    for (const p of pts) {
      const dot = svgEl('circle', { cx: sx(p.x), cy: sy(p.y), r: 2, fill: SOURCE_COLORS[p.source] || s.color });
      dot.append(svgEl('title', {}, `${s.name} ${fmt.time(p.x)}: ${yFormat(p.y)} (${p.source})`));
      svg.append(dot);
    }
  }
}

// ---- panels ----

let campaignCache = { at: 0, list: [] };

async function campaigns() {
  if (Date.now() - campaignCache.at > 30000) campaignCache = { at: Date.now(), list: (await api('/v1/campaigns')).campaigns };
  return campaignCache.list;
}

function lastHour() {
  const to = Date.now();
  return { from: Math.floor((to - HOUR) / 60000) * 60000, to };
}

async function ctrPanel() {
  const svg = $('ctr-chart');
  const { from, to } = lastHour();
  const list = (await campaigns()).slice(0, 24);
  const answers = await Promise.all(list.map((c) => api(`/v1/campaigns/${encodeURIComponent(c)}/metrics?from=${from}&to=${to}&granularity=minute`)));
  const totals = answers.map((a) => {
    const t = { id: a.campaignId, impressions: 0, clicks: 0, invalid: 0, sources: new Set(), rows: a.rows, watermark: a.batchWatermark };
    for (const r of a.rows) {
      t.impressions += r.impressions;
      t.clicks += r.clicks;
      t.invalid += r.invalidImpressions + r.invalidClicks;
      t.sources.add(r.source);
    }
    return t;
  });
  totals.sort((a, b) => b.impressions - a.impressions || (a.id < b.id ? -1 : 1));
  const shown = totals.filter((t) => t.impressions > 0).slice(0, 6);
  const series = shown.map((t, i) => ({
    name: t.id,
    color: COLORS[i % COLORS.length],
    points: t.rows.filter((r) => r.ctr !== null).map((r) => ({ x: r.start, y: r.ctr, source: r.source })),
  }));
  const points = series.reduce((n, s) => n + s.points.length, 0);
  const watermark = answers.length ? answers[0].batchWatermark : null;
  if (points === 0) emptyChart(svg, list.length ? 'no impressions in the last hour yet' : 'no campaigns seen yet');
  else lineChart(svg, series, { x0: from, x1: to, watermark, yFormat: (y) => fmt.pct(y, 1) });
  svg.dataset.points = String(points);
  svg.dataset.state = points > 0 ? 'ready' : 'empty';

  const legend = $('ctr-legend');
  clear(legend);
  for (const s of series) legend.append(el('span', {}, el('span', { class: 'swatch', width: '10px' }), s.name));
  for (const [i, node] of [...legend.querySelectorAll('.swatch')].entries()) node.style.background = series[i].color;

  const tbody = $('campaign-table').tBodies[0];
  clear(tbody);
  for (const t of totals) {
    tbody.append(
      el('tr', {},
        el('td', {}, t.id),
        el('td', { class: 'num' }, fmt.int(t.impressions)),
        el('td', { class: 'num' }, fmt.int(t.clicks)),
        el('td', { class: 'num' }, t.impressions ? fmt.pct(t.clicks / t.impressions) : '–'),
        el('td', { class: 'num' }, fmt.int(t.invalid)),
        el('td', {}, ...[...t.sources].sort().map(sourceBadge)),
      ),
    );
  }
}

async function attributionPanel() {
  const svg = $('attribution-chart');
  const model = $('model').value;
  const { from, to } = lastHour();
  const answer = await api(`/v1/attribution?from=${from}&to=${to}&model=${model}&groupBy=channel`);
  const rows = [...answer.rows].sort((a, b) => b.conversions - a.conversions);
  svg.dataset.state = rows.length ? 'ready' : 'empty';
  if (!rows.length) return emptyChart(svg, model === 'markov' ? 'markov exists in batch views only' : 'no conversions in the last hour');
  clear(svg);
  const [, , W] = svg.getAttribute('viewBox').split(' ').map(Number);
  const max = Math.max(...rows.map((r) => r.conversions), 1e-9);
  const barH = Math.min(26, 220 / rows.length);
  rows.forEach((r, i) => {
    const y = 8 + i * barH;
    const w = ((W - 270) * r.conversions) / max;
    svg.append(svgEl('text', { x: 84, y: y + barH * 0.65, 'text-anchor': 'end' }, r.key));
    const bar = svgEl('rect', { x: 90, y, width: Math.max(1, w), height: barH * 0.7, fill: SOURCE_COLORS[r.source] });
    bar.append(svgEl('title', {}, `${r.key}: ${fmt.num(r.conversions)} conversions, revenue ${fmt.num(r.revenue)} (${r.source})`));
    svg.append(bar);
    svg.append(svgEl('text', { x: 94 + w, y: y + barH * 0.65 }, `${fmt.num(r.conversions, 1)} · ${fmt.num(r.revenue, 0)} rev · ${r.source}`));
  });
}

async function heatmapPanel() {
  const select = $('page');
  const pages = (await api('/v1/pages')).pages;
  const current = select.value;
  if ([...select.options].map((o) => o.value).join() !== pages.join()) {
    clear(select);
    for (const p of pages) select.append(el('option', { value: p }, p));
    if (pages.includes(current)) select.value = current;
  }
  const tbody = $('heatmap-table').tBodies[0];
  clear(tbody);
  if (!select.value) {
    $('heatmap-source').textContent = 'no pages seen yet';
    return;
  }
  const { from, to } = lastHour();
  const answer = await api(`/v1/pages/${encodeURIComponent(select.value)}/heatmap?from=${from}&to=${to}`);
  for (const e of answer.elements.slice(0, 15)) {
    const bar = el('div', { class: `bar ${answer.source === 'batch' ? 'batch' : ''}`, width: `${Math.max(1, e.share * 100)}%` });
    tbody.append(
      el('tr', {},
        el('td', { class: 'num' }, e.rank),
        el('td', {}, e.elementId),
        el('td', { class: 'num' }, fmt.int(e.clicks)),
        el('td', {}, bar, fmt.pct(e.share, 1)),
      ),
    );
  }
  const src = $('heatmap-source');
  clear(src);
  src.append(`${fmt.int(answer.totalClicks)} valid element clicks · `, sourceBadge(answer.source));
}

async function reconciliationPanel() {
  const svg = $('recon-chart');
  const metric = $('recon-metric').value;
  const to = Date.now();
  const answer = await api(`/v1/reconciliation?from=${to - 24 * HOUR}&to=${to}`);
  const hours = new Map();
  for (const r of answer.rows) {
    const h = hours.get(r.hourStart) || { speed: 0, batch: null };
    h.speed += r[metric].speed;
    if (r[metric].batch !== null) h.batch = (h.batch || 0) + r[metric].batch;
    hours.set(r.hourStart, h);
  }
  const entries = [...hours].sort((a, b) => a[0] - b[0]);
  svg.dataset.state = entries.length ? 'ready' : 'empty';
  if (!entries.length) emptyChart(svg, 'no data in the last 24 hours');
  else {
    clear(svg);
    const [, , W, H] = svg.getAttribute('viewBox').split(' ').map(Number);
    const m = { l: 52, r: 10, t: 12, b: 24 };
    const max = Math.max(1e-9, ...entries.flatMap(([, v]) => [v.speed, v.batch || 0])) * 1.1;
    const slot = (W - m.l - m.r) / 25; // 24 hours back plus the current one
    const x0 = Math.floor((to - 24 * HOUR) / HOUR) * HOUR;
    const sy = (y) => H - m.b - (y / max) * (H - m.t - m.b);
    for (let i = 0; i <= 4; i++) {
      const y = (max / 4) * i;
      svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: sy(y), y2: sy(y), class: 'axis' }));
      svg.append(svgEl('text', { x: m.l - 6, y: sy(y) + 4, 'text-anchor': 'end' }, fmt.int(y)));
    }
    for (const [hour, v] of entries) {
      const x = m.l + ((hour - x0) / HOUR) * slot;
      const bw = slot * 0.38;
      const sBar = svgEl('rect', { x: x + slot * 0.1, y: sy(v.speed), width: bw, height: H - m.b - sy(v.speed), fill: SOURCE_COLORS.speed });
      sBar.append(svgEl('title', {}, `${fmt.time(hour)} speed ${fmt.num(v.speed)}`));
      svg.append(sBar);
      if (v.batch !== null) {
        const bBar = svgEl('rect', { x: x + slot * 0.1 + bw, y: sy(v.batch), width: bw, height: H - m.b - sy(v.batch), fill: SOURCE_COLORS.batch });
        bBar.append(svgEl('title', {}, `${fmt.time(hour)} batch ${fmt.num(v.batch)} (diff ${fmt.num(v.speed - v.batch)})`));
        svg.append(bBar);
      }
      if ((hour - x0) % (3 * HOUR) === 0) svg.append(svgEl('text', { x: x + slot / 2, y: H - 6, 'text-anchor': 'middle' }, fmt.time(hour)));
    }
    svg.append(svgEl('text', { x: W - m.r, y: m.t, 'text-anchor': 'end' }, 'blue = speed, orange = batch (no orange: hour not recomputed yet)'));
  }
  const rows = answer.rows
    .filter((r) => r[metric].diff !== null && r[metric].diff !== 0)
    .sort((a, b) => Math.abs(b[metric].diff) - Math.abs(a[metric].diff))
    .slice(0, 10);
  const tbody = $('recon-table').tBodies[0];
  clear(tbody);
  for (const r of rows) {
    const c = r.causes;
    const late = Object.entries(c.late).map(([k, n]) => `late ${k} ${n}`);
    const invalid = (o) => Object.entries(o || {}).map(([k, n]) => `${k} ${n}`).join(' ');
    const causes = [
      ...late,
      `dups ${c.duplicates.speed}/${c.duplicates.batch ?? '–'}`,
      `invalid speed [${invalid(c.invalid.speed)}] batch [${invalid(c.invalid.batch)}]`,
    ].join(' · ');
    tbody.append(
      el('tr', {},
        el('td', {}, fmt.dateTime(r.hourStart).slice(5, 16)),
        el('td', {}, r.campaignId),
        el('td', { class: 'num' }, fmt.num(r[metric].speed)),
        el('td', { class: 'num' }, fmt.num(r[metric].batch)),
        el('td', { class: 'num' }, fmt.num(r[metric].diff)),
        el('td', { class: 'num' }, fmt.pct(r[metric].relDiff, 1)),
        el('td', {}, causes),
        el('td', {}, `${r.batchVersion ?? '–'}${r.batchShapleyVersion ? ` (shapley ${r.batchShapleyVersion})` : ''}`),
      ),
    );
  }
  if (!rows.length) tbody.append(el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no differences between the layers in recomputed hours')));
}

/** The header's Shapley line: the version every key sees, the training period for analysts. */
function shapleyHeader(version, table) {
  const node = $('shapley-version');
  node.dataset.version = version ?? '';
  if (!version) {
    node.textContent = 'Shapley table: none yet (Shapley credit is the equal split until a training)';
    return;
  }
  const period = table && table.version === version && table.from !== null ? `, trained on ${fmt.dateTime(table.from).slice(0, 16)} – ${fmt.dateTime(table.to).slice(0, 16)} UTC (${fmt.int(table.users)} users, ${fmt.int(table.convertedUsers)} converted)` : '';
  node.textContent = `Shapley table ${version}${period}`;
}

/** v(S) of the largest coalitions, one column per channel (a dot where S holds it). */
async function shapleyPanel() {
  const table = await api('/v1/attribution/shapley?largest=12');
  const node = $('shapley-table');
  const [thead, tbody] = [node.tHead, node.tBodies[0]];
  clear(thead);
  clear(tbody);
  node.dataset.version = table.version ?? '';
  node.dataset.state = table.coalitions.length ? 'ready' : 'empty';
  $('shapley-summary').textContent = table.version
    ? `${table.version}: ${fmt.int(table.coalitionCount)} coalitions over ${table.channels.length} channels, trained on ${fmt.dateTime(table.from)} – ${fmt.dateTime(table.to)} UTC; retrained daily by the train-attribution schedule or with Train below`
    : 'no table yet: a train-attribution job (the daily schedule, npm start after its backfill, or Train below) publishes one';
  thead.append(el('tr', {}, el('th', {}, '|S|'), ...table.channels.map((c) => el('th', { class: 'num' }, c)), el('th', {}, 'v(S)')));
  const max = Math.max(1e-9, ...table.coalitions.map((c) => c.value));
  for (const c of table.coalitions) {
    const cells = table.channels.map((ch) => el('td', { class: 'num' }, c.channels.includes(ch) ? '●' : ''));
    const bar = el('div', { class: 'bar batch', width: `${Math.max(1, (c.value / max) * 100)}%` });
    tbody.append(el('tr', { 'data-coalition': c.channels.join('+') }, el('td', { class: 'num' }, c.channels.length), ...cells, el('td', { class: 'vbar' }, bar, fmt.pct(c.value, 1))));
  }
  return table;
}

// ---- the loop ----

function showError(panel, err) {
  const node = $(panel);
  if (node && node.tagName === 'svg') emptyChart(node, `error: ${err.message}`);
  else if (node && node.tBodies) {
    clear(node.tBodies[0]);
    node.tBodies[0].append(el('tr', {}, el('td', { colspan: 8, class: 'error' }, `error: ${err.message}`)));
  }
}

let asked = false;
async function refresh() {
  if (!apiKey && !asked) {
    // Asked once per page load; afterwards the "API key…" button asks again.
    asked = true;
    apiKey = askKey();
  }
  let status;
  try {
    status = await api('/v1/status');
  } catch (err) {
    $('status').textContent = `API: ${err.message}${err.status === 401 ? ' (use the "API key…" button, or open /#key=<key>)' : ''}`;
    $('role').textContent = 'no key';
    if (err.status === 401) {
      apiKey = null;
      sessionStorage.removeItem('sigflow.key');
    }
    return;
  }
  $('role').textContent = `role: ${status.role}`;
  const speed = Object.values(status.speedWatermarks);
  const speedWm = speed.length ? Math.min(...speed) : null;
  $('status').textContent =
    `batch watermark ${status.batchWatermark === null ? 'none (all speed views)' : fmt.dateTime(status.batchWatermark)} UTC · ` +
    `speed watermark ${fmt.dateTime(speedWm)} UTC · ` +
    `${fmt.int(status.speedCounters.events || 0)} events, ${fmt.int(status.speedCounters.duplicates || 0)} duplicates, ${fmt.int(status.speedCounters.late || 0)} late`;
  const users = recentUsersPanel().catch((err) => ($('recent-users').textContent = `error: ${err.message}`));
  if (status.role === 'reader') {
    shapleyHeader(status.shapleyVersion, null);
    $('status').textContent += ' · this key (reader) sees users only';
    await jobsPanel(status.role);
    await users;
    return;
  }
  const panels = [
    ['ctr-chart', ctrPanel],
    ['pacing-table', pacingPanel],
    ['segments-chart', segmentsPanel],
    ['alerts-table', alertsPanel],
    ['attribution-chart', attributionPanel],
    ['heatmap-table', async () => {
      await heatmapPanel();
      await heatmapOverlayPanel();
    }],
    ['recon-chart', reconciliationPanel],
    ['jobs-table', () => jobsPanel(status.role)],
    ['shapley-table', async () => shapleyHeader(status.shapleyVersion, await shapleyPanel())],
    ['sql-table', sqlTablesPanel],
  ];
  await Promise.all([users, ...panels.map(([id, panel]) => panel().catch((err) => showError(id, err)))]);
  $('refreshed').textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC, every ${REFRESH_MS / 1000} s`;
}

let timer = null;
async function loop() {
  clearTimeout(timer);
  try {
    await refresh();
  } finally {
    timer = setTimeout(loop, REFRESH_MS);
  }
}

$('change-key').addEventListener('click', () => {
  apiKey = askKey();
  loop();
});
for (const id of ['model', 'page', 'recon-metric', 'pacing-campaign']) $(id).addEventListener('change', loop);
installUserPanel();
installOpsPanel();
installHeatmapPanel();
installSqlPanel();
loop();
