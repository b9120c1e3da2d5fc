// sigflow dashboard, the pacing panel: every campaign with a budget as a bidder sees it
// (GET /v1/bidding: status, pace, spend today against the budget, the bid multiplier of each
// channel with its reason), and for one campaign its spend over the budget day against the
// budget line (GET /v1/campaigns/:id/spend, cumulated). Uses dashboard.js's helpers.
'use strict';
/* global $, api, clear, el, fmt, lineChart, emptyChart, sourceBadge -- dashboard.js's helpers, called once it has loaded */
/* exported pacingPanel -- called by dashboard.js */

const STATUS_TEXT = { exhausted: 'budget exhausted', over: 'over pace', under: 'under pace', on: 'on pace' };

/** Micros of the campaign currency, as currency units with cents. */
function money(micros) {
  return micros === null || micros === undefined ? '–' : (micros / 1e6).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** One chip per channel: its multiplier, and why (hover: the inputs). */
function multiplierChips(answer) {
  if (!answer.channels.length) return [el('span', { class: 'muted' }, 'no spend yet')];
  return answer.channels.map((c) => {
    const i = c.inputs;
    const title = `${c.reason}: ROAS ${i.roas === null ? '–' : fmt.num(i.roas)} (target ${i.targetRoas}), ${fmt.int(i.clicks)} valid clicks, spend ${money(i.spendMicros)} and revenue ${fmt.num(i.revenue)} in the last window, pace ${fmt.num(i.pace)}`;
    const text = `${c.channel} ×${c.multiplier.toFixed(2)}${c.reason === 'insufficient_data' ? ' (few clicks)' : ''}`;
    return el('span', { class: `chip mult mult-${c.reason}`, title, 'data-channel': c.channel, 'data-multiplier': String(c.multiplier), 'data-reason': c.reason }, text);
  });
}

function pacingRow(answer) {
  const share = answer.budget.dailyBudgetMicros > 0 ? answer.spendToday.micros / answer.budget.dailyBudgetMicros : 1;
  const bar = el('div', { class: `bar ${answer.status === 'exhausted' || answer.status === 'over' ? 'over' : ''}`, width: `${Math.min(100, Math.max(1, share * 100))}%` });
  return el('tr', { 'data-campaign-id': answer.campaignId, 'data-status': answer.status },
    el('td', {}, answer.campaignId),
    el('td', {}, el('span', { class: `status status-${answer.status}` }, STATUS_TEXT[answer.status] || answer.status)),
    el('td', { class: 'num' }, fmt.num(answer.pace)),
    el('td', { class: 'spendbar' }, bar, `${money(answer.spendToday.micros)} of ${money(answer.budget.dailyBudgetMicros)}`),
    el('td', {}, `${answer.budget.timeZone} · ${fmt.pct(answer.day.elapsed, 0)} of the day`),
    el('td', {}, ...multiplierChips(answer)),
    el('td', {}, sourceBadge(answer.spendToday.source)),
  );
}

/** The campaign chosen for the chart (kept when the list changes). */
function chosenCampaign(answers) {
  const select = $('pacing-campaign');
  const ids = answers.map((a) => a.campaignId);
  const current = select.value;
  if ([...select.options].map((o) => o.value).join() !== ids.join()) {
    clear(select);
    for (const id of ids) select.append(el('option', { value: id }, id));
    if (ids.includes(current)) select.value = current;
  }
  return answers.find((a) => a.campaignId === select.value) || answers[0];
}

/** Cumulative spend over the budget day (at most ~150 points) against the even-pace line and the budget. */
async function pacingChart(answer) {
  const svg = $('pacing-chart');
  const { start, end } = answer.day;
  const to = Math.min(Date.now(), end);
  const spend = await api(`/v1/campaigns/${encodeURIComponent(answer.campaignId)}/spend?from=${start}&to=${Math.max(to, start + 1)}&granularity=minute`);
  const byWindow = new Map();
  for (const r of spend.rows) {
    const w = byWindow.get(r.start) || { x: r.start, spend: 0, source: r.source };
    w.spend += r.spendMicros;
    byWindow.set(r.start, w);
  }
  let total = 0;
  const cumulative = [...byWindow.values()].sort((a, b) => a.x - b.x).map((w) => ({ x: w.x, y: (total += w.spend), source: w.source }));
  const step = Math.max(1, Math.ceil(cumulative.length / 150));
  const sampled = cumulative.filter((_, i) => i % step === 0 || i === cumulative.length - 1);
  // From nothing at the day's start to what is spent now.
  const last = sampled[sampled.length - 1];
  const zero = (x) => ({ x, y: 0, source: sampled[0].source });
  const points = last ? [zero(start), zero(sampled[0].x), ...sampled, { x: Math.max(to, last.x), y: total, source: last.source }] : [];
  const budget = answer.budget.dailyBudgetMicros;
  svg.dataset.campaignId = answer.campaignId;
  svg.dataset.spend = String(total);
  svg.dataset.budget = String(budget);
  svg.dataset.state = points.length ? 'ready' : 'empty';
  if (!points.length) return emptyChart(svg, `no spend of ${answer.campaignId} today yet`);
  lineChart(
    svg,
    [
      { name: 'spend today', color: '#2f6fdb', points },
      { name: 'even pace', color: '#9aa1b1', points: [{ x: start, y: 0 }, { x: end, y: budget }] },
      { name: 'budget', color: '#d1453b', points: [{ x: start, y: budget }, { x: end, y: budget }] },
    ],
    { x0: start, x1: end, watermark: spend.batchWatermark, yFormat: money },
  );
}

async function pacingPanel() {
  const { campaigns: answers, pending } = await api('/v1/bidding');
  const tbody = $('pacing-table').tBodies[0];
  clear(tbody);
  for (const answer of answers) tbody.append(pacingRow(answer));
  if (!answers.length) {
    const why = pending.length ? `${pending.length} budgeted campaign(s) not computed yet: is the bidding service running?` : 'no campaign has a budget yet (ops: PUT /v1/campaigns/<id>/budget)';
    tbody.append(el('tr', {}, el('td', { colspan: 7, class: 'muted' }, why)));
    emptyChart($('pacing-chart'), why);
    $('pacing-chart').dataset.state = 'empty';
    return;
  }
  await pacingChart(chosenCampaign(answers));
}
