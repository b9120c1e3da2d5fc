// sigflow dashboard, the segments and alerts panels: every segment's size over the last hours
// (GET /v1/segments/:name/size per minute: members at the end of each minute, batch-recomputed
// hours shaded by source), and the firing and recent alert episodes with their webhook
// deliveries (GET /v1/alerts). Uses dashboard.js's helpers.
'use strict';
/* global $, api, clear, el, fmt, lineChart, emptyChart, sourceBadge, COLORS -- dashboard.js's helpers, called once it has loaded */
/* exported segmentsPanel, alertsPanel -- called by dashboard.js */

const SEGMENT_SPAN_MS = 3 * 3600000;

/** The rule in one line, as ops wrote it. */
function ruleText(rule) {
  const part = (node) => {
    if (node.all) return `all(${node.all.map(part).join(', ')})`;
    if (node.any) return `any(${node.any.map(part).join(', ')})`;
    return `${node.feature} ${node.op} ${JSON.stringify(node.value)}`;
  };
  return part(rule);
}

async function segmentsPanel() {
  const svg = $('segments-chart');
  const { segments } = await api('/v1/segments');
  const to = Date.now();
  const from = Math.floor((to - SEGMENT_SPAN_MS) / 60000) * 60000;
  const shown = segments.slice(0, 8);
  const answers = await Promise.all(shown.map((s) => api(`/v1/segments/${encodeURIComponent(s.name)}/size?from=${from}&to=${to}&granularity=minute`)));
  const series = answers.map((a, i) => ({ name: a.segment, color: COLORS[i % COLORS.length], points: a.rows.map((r) => ({ x: r.start, y: r.size, source: r.source })) }));
  const tbody = $('segments-table').tBodies[0];
  clear(tbody);
  answers.forEach((a, i) => {
    const swatch = el('span', { class: 'swatch', width: '10px' });
    swatch.style.background = series[i].color;
    const last = a.rows[a.rows.length - 1];
    const hour = a.rows.filter((r) => r.start >= to - 3600000);
    const sum = (k) => hour.reduce((n, r) => n + r[k], 0);
    tbody.append(
      el('tr', { 'data-segment': a.segment, 'data-size': String(last ? last.size : 0) },
        el('td', {}, swatch, a.segment),
        el('td', { class: 'num' }, a.version),
        el('td', { class: 'num' }, fmt.int(last ? last.size : 0)),
        el('td', { class: 'num' }, `+${fmt.int(sum('entered'))} / −${fmt.int(sum('left'))}`),
        el('td', { class: 'rule' }, ruleText(shown[i].rule)),
        el('td', {}, ...[...new Set(a.rows.map((r) => r.source))].sort().map(sourceBadge)),
      ),
    );
  });
  if (!segments.length) tbody.append(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'no segment defined yet (ops: PUT /v1/segments/<name>)')));
  const points = series.reduce((n, s) => n + s.points.length, 0);
  svg.dataset.segments = String(shown.length);
  svg.dataset.state = points > 0 ? 'ready' : 'empty';
  if (points === 0) return emptyChart(svg, segments.length ? 'no sizes in the last hours' : 'no segment defined yet');
  lineChart(svg, series, { x0: from, x1: to, watermark: null, yFormat: (y) => fmt.int(y) });
}

function deliveryText(d) {
  if (!d) return '–';
  return `${d.state}${d.attempts ? ` (${d.attempts} attempt${d.attempts > 1 ? 's' : ''})` : ''}`;
}

async function alertsPanel() {
  const { alerts } = await api('/v1/alerts?limit=50');
  const tbody = $('alerts-table').tBodies[0];
  clear(tbody);
  const firing = alerts.filter((a) => a.state === 'firing');
  $('alerts-summary').textContent = `${firing.length} firing, ${alerts.length - firing.length} resolved (newest ${alerts.length})`;
  for (const a of [...firing, ...alerts.filter((x) => x.state !== 'firing')]) {
    const failed = Object.values(a.deliveries).some((d) => d && d.state === 'failed');
    tbody.append(
      el('tr', { 'data-episode': a.id, 'data-state': a.state, 'data-rule': a.rule },
        el('td', {}, el('span', { class: `status status-${a.state === 'firing' ? 'over' : 'on'}` }, a.state)),
        el('td', {}, a.rule),
        el('td', {}, a.campaign),
        el('td', {}, `${a.metric} ${a.condition.op} ${a.condition.threshold} for ${a.for}`),
        el('td', {}, `${fmt.dateTime(a.firedWindow)} · ${a.firedValue === null ? '–' : fmt.num(a.firedValue, 4)}`),
        el('td', {}, a.resolvedWindow === null ? '–' : fmt.dateTime(a.resolvedWindow)),
        el('td', { class: failed ? 'error' : '' }, `fired: ${deliveryText(a.deliveries.fired)} · resolved: ${deliveryText(a.deliveries.resolved)}`),
      ),
    );
  }
  if (!alerts.length) tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'no alert has fired (ops: PUT /v1/alerts/rules/<name>)')));
}
